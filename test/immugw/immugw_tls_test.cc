// immugw to an immudb that requires mTLS: with the right certificates its
// verified routes work; without TLS, or with a client certificate from
// another CA, it cannot log in. Certificates are made by openssl at test time.
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <filesystem>

#include "client/auditor.h"
#include "cmd/immugw/gateway.h"
#include "gateway_harness.h"
#include "server_process.h"
#include "test_certs.h"
#include "testutil/test_util.h"

namespace immudb::gateway {
namespace {

using client::testing::ServerProcess;
using client::testing::TestCerts;

class ImmugwTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testutil::FreshTestDir("immugw_tls_test");
    std::filesystem::create_directories(dir_ + "/certs");
    std::string error;
    ASSERT_TRUE(client::testing::MakeTestCerts(dir_ + "/certs", &certs_, &error)) << error;
    server_ = std::make_unique<ServerProcess>(dir_ + "/server", MtlsServerFlags(certs_));
    ASSERT_TRUE(server_->Start(&error)) << error;
  }
  void TearDown() override {
    http_.reset();
    gw_.reset();
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Starts a gateway with `tls`; returns the HTTP status of its login.
  int StartAndLogin(const client::TlsOptions& tls) {
    GatewayOptions o;
    o.immudb_port = server_->port();
    o.dir = dir_ + "/gw";
    o.timeout = std::chrono::milliseconds(5000);
    o.tls = tls;
    auto login = testing::StartGatewayAndLogin(std::move(o), &gw_, &http_, &token_);
    EXPECT_TRUE(login.ok()) << login.status().ToString();
    return login.ok() ? *login : -1;
  }

  client::TlsOptions Mtls() const {
    client::TlsOptions t;
    t.enabled = true;
    t.server_name = "localhost";
    t.ca_cert = certs_.ca;
    t.client_cert = certs_.client_cert;
    t.client_key = certs_.client_key;
    return t;
  }

  std::string dir_;
  TestCerts certs_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<Gateway> gw_;
  std::unique_ptr<httplib::Client> http_;
  std::string token_;
};

TEST_F(ImmugwTlsTest, VerifiedRoutesWorkOverMtls) {
  ASSERT_EQ(StartAndLogin(Mtls()), 200);
  const httplib::Headers auth = {{"Authorization", "Bearer " + token_}};
  auto set = http_->Post("/db/defaultdb/verified/set", auth,
                         R"({"setRequest":{"KVs":[{"key":")" + client::Base64Encode("k") +
                             R"(","value":")" + client::Base64Encode("v") + R"("}]}})",
                         "application/json");
  ASSERT_TRUE(set);
  EXPECT_EQ(set->status, 200) << set->body;
  EXPECT_NE(set->body.find("\"verified\":true"), std::string::npos) << set->body;
  auto get = http_->Post("/db/defaultdb/verified/get", auth,
                         R"({"keyRequest":{"key":")" + client::Base64Encode("k") + "\"}}",
                         "application/json");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 200) << get->body;
  EXPECT_NE(get->body.find("\"verified\":true"), std::string::npos) << get->body;
}

TEST_F(ImmugwTlsTest, WithoutTheRightCertificatesItCannotLogIn) {
  EXPECT_NE(StartAndLogin(client::TlsOptions()), 200) << "plain connection to a TLS server";
  gw_.reset();
  client::TlsOptions other = Mtls();
  other.client_cert = certs_.other_cert;
  other.client_key = certs_.other_key;
  EXPECT_NE(StartAndLogin(other), 200) << "client certificate from another CA";
  gw_.reset();
  // A certificate file that does not exist is refused when the gateway is made.
  client::TlsOptions missing = Mtls();
  missing.ca_cert = dir_ + "/no-such-ca.pem";
  GatewayOptions o;
  o.immudb_port = server_->port();
  o.dir = dir_ + "/gw2";
  o.tls = missing;
  auto gw = Gateway::Create(std::move(o));
  ASSERT_FALSE(gw.ok());
  EXPECT_NE(gw.status().message().find("no-such-ca.pem"), std::string::npos)
      << gw.status().ToString();
}

}  // namespace
}  // namespace immudb::gateway
