// TLS and mTLS: build/bin/immudb with --mtls and certificates made by openssl
// at test time. A client with a certificate from the server's client CA gets
// in; one without a certificate, with a certificate from another CA, or that
// does not trust the server's CA is refused. Also through immuclient's flags.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "client/client.h"
#include "server_process.h"
#include "test_certs.h"
#include "testutil/test_util.h"

namespace immudb::client {
namespace {

using testing::BinDir;
using testing::RunShell;
using testing::ServerProcess;
using testing::TestCerts;

class ClientTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testutil::FreshTestDir("client_tls_test");
    std::filesystem::create_directories(dir_ + "/certs");
    std::filesystem::create_directories(dir_ + "/home");
    std::string error;
    ASSERT_TRUE(testing::MakeTestCerts(dir_ + "/certs", &certs_, &error)) << error;
    server_ = std::make_unique<ServerProcess>(dir_ + "/server", MtlsServerFlags(certs_));
    ASSERT_TRUE(server_->Start(&error)) << error;
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  Options Base() const {
    Options o;
    o.port = server_->port();
    o.state_dir = dir_;
    o.timeout = std::chrono::milliseconds(5000);
    o.tls.enabled = true;
    o.tls.server_name = "localhost";
    o.tls.ca_cert = certs_.ca;
    o.tls.client_cert = certs_.client_cert;
    o.tls.client_key = certs_.client_key;
    return o;
  }

  static Status LoginWith(const Options& o) {
    auto c = Client::Open(o);
    if (!c.ok()) return c.status();
    return (*c)->Login("immudb", "immudb");
  }

  std::string Immuclient(const std::string& args, int* code) {
    const std::string cmd = "HOME=" + dir_ + "/home " + BinDir() + "/immuclient -p " +
                            std::to_string(server_->port()) + " --dir " + dir_ + " " + args +
                            " 2>&1 </dev/null";
    return RunShell(cmd, code);
  }

  std::string dir_;
  TestCerts certs_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(ClientTlsTest, ClientWithCertificateFromTheClientCaWorks) {
  auto c = Client::Open(Base());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  Status st = (*c)->Login("immudb", "immudb");
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto h = (*c)->VerifiedSet("k", "v");
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  auto e = (*c)->VerifiedGet("k");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->value, "v");
}

TEST_F(ClientTlsTest, ClientsWithoutTheRightCertificateAreRefused) {
  Options plain = Base();
  plain.tls = TlsOptions();
  EXPECT_FALSE(LoginWith(plain).ok()) << "plain TCP";

  Options no_cert = Base();
  no_cert.tls.client_cert.clear();
  no_cert.tls.client_key.clear();
  EXPECT_FALSE(LoginWith(no_cert).ok()) << "TLS without a client certificate";

  Options other_ca = Base();
  other_ca.tls.client_cert = certs_.other_cert;
  other_ca.tls.client_key = certs_.other_key;
  EXPECT_FALSE(LoginWith(other_ca).ok()) << "client certificate from another CA";

  Options untrusted_server = Base();
  untrusted_server.tls.ca_cert = certs_.other_ca;
  EXPECT_FALSE(LoginWith(untrusted_server).ok()) << "server certificate not trusted";

  Options wrong_name = Base();
  wrong_name.tls.server_name = "not-the-server.example";
  EXPECT_FALSE(LoginWith(wrong_name).ok()) << "server name not in the certificate";

  EXPECT_TRUE(LoginWith(Base()).ok());
}

TEST_F(ClientTlsTest, BadTlsSettingsAreRejectedByOpen) {
  Options half = Base();
  half.tls.client_key.clear();
  EXPECT_EQ(Client::Open(half).status().code(), StatusCode::kInvalidArgument);
  Options missing = Base();
  missing.tls.ca_cert = dir_ + "/certs/absent.pem";
  auto r = Client::Open(missing);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("absent.pem"), std::string::npos) << r.status().ToString();
  Options off = Base();
  off.tls.enabled = false;
  EXPECT_EQ(Client::Open(off).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ClientTlsTest, ImmuclientMtlsFlags) {
  const std::string tls = "--mtls --servername localhost --clientcas " + certs_.ca +
                          " --certificate " + certs_.client_cert + " --pkey " + certs_.client_key +
                          " ";
  int code = 0;
  EXPECT_EQ(Immuclient(tls + "status", &code), "Health check OK\n");
  EXPECT_EQ(code, 0);
  std::string out = Immuclient(tls + "--username immudb --password immudb safeset a b", &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out, "tx:       1\nrev:      1\nkey:      a\nvalue:    b\nverified: true\n");

  out = Immuclient("status", &code);
  EXPECT_NE(code, 0) << out;
  const std::string other = "--mtls --clientcas " + certs_.ca + " --certificate " +
                            certs_.other_cert + " --pkey " + certs_.other_key + " ";
  out = Immuclient(other + "status", &code);
  EXPECT_NE(code, 0) << out;
  out = Immuclient(
      "--mtls --clientcas " + certs_.ca + " --certificate " + certs_.client_cert + " status",
      &code);
  EXPECT_NE(code, 0) << out;
  EXPECT_NE(out.find("key"), std::string::npos) << out;
}

// audit-mode connects with the same TLS flags as the other commands.
TEST_F(ClientTlsTest, AuditModeOverMtls) {
  const std::string tls = "--mtls --servername localhost --clientcas " + certs_.ca +
                          " --certificate " + certs_.client_cert + " --pkey " + certs_.client_key +
                          " ";
  int code = 0;
  std::string out = Immuclient(tls + "--username immudb --password immudb safeset a b", &code);
  ASSERT_EQ(code, 0) << out;
  const std::string audit =
      "audit-mode --audit-password immudb --audit-monitoring-port -1 --audit-runs 1 "
      "--audit-interval 50ms";
  out = Immuclient(tls + audit, &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("audit #1 result: db: defaultdb, consistent: true"), std::string::npos) << out;
  // Without TLS it cannot reach the server.
  out = Immuclient(audit, &code);
  EXPECT_EQ(out.find("consistent: true"), std::string::npos) << out;
}

// A TLS server that does not require client certificates (no --mtls) takes
// a client that only checks the server's certificate.
TEST_F(ClientTlsTest, ServerOnlyTlsNeedsNoClientCertificate) {
  ServerProcess tls_only(dir_ + "/tls-only",
                         {"--certificate", certs_.server_cert, "--pkey", certs_.server_key});
  std::string error;
  ASSERT_TRUE(tls_only.Start(&error)) << error;
  Options o = Base();
  o.port = tls_only.port();
  o.tls.client_cert.clear();
  o.tls.client_key.clear();
  Status st = LoginWith(o);
  EXPECT_TRUE(st.ok()) << st.ToString();
  Options plain = o;
  plain.tls = TlsOptions();
  EXPECT_FALSE(LoginWith(plain).ok());
}

}  // namespace
}  // namespace immudb::client
