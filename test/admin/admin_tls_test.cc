// immuadmin against a server that requires client certificates (--mtls and
// its certificate flags, from the command line, IMMUADMIN_* variables or a
// --config file), and the precedence flag > variable > file.
#include <filesystem>

#include "admin_test_util.h"
#include "test_certs.h"

namespace immudb::admin::testing {
namespace {

using client::testing::TestCerts;

class AdminTlsTest : public AdminTest {
 protected:
  std::vector<std::string> ServerArgs() override {
    std::filesystem::create_directories(dir_ + "/certs");
    std::string error;
    EXPECT_TRUE(client::testing::MakeTestCerts(dir_ + "/certs", &certs_, &error)) << error;
    return client::testing::MtlsServerFlags(certs_);
  }
  std::string TlsFlags() const {
    return "--mtls --servername localhost --clientcas " + certs_.ca + " --certificate " +
           certs_.client_cert + " --pkey " + certs_.client_key;
  }
  TestCerts certs_;
};

TEST_F(AdminTlsTest, FlagsVariablesAndConfigFileReachAnMtlsServer) {
  int code = -1;
  // Without TLS the server does not answer.
  std::string out = Run("status", &code);
  EXPECT_EQ(code, 1) << out;

  out = Run(TlsFlags() + " login immudb", &code, "immudb\n");
  ASSERT_EQ(code, 0) << out;
  out = Run(TlsFlags() + " status", &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_TRUE(Contains(out, "OK - server is reachable")) << out;

  // The same settings from the environment.
  const std::string env =
      "IMMUADMIN_MTLS=true IMMUADMIN_SERVERNAME=localhost IMMUADMIN_CLIENTCAS=" + certs_.ca +
      " IMMUADMIN_CERTIFICATE=" + certs_.client_cert + " IMMUADMIN_PKEY=" + certs_.client_key;
  out = Run("database list", &code, "", env);
  EXPECT_EQ(code, 0) << out;
  EXPECT_TRUE(Contains(out, "defaultdb")) << out;

  // And from a settings file.
  const std::string cfg = dir_ + "/immuadmin.toml";
  WriteAll(cfg, "mtls = true\nservername = \"localhost\"\nclientcas = \"" + certs_.ca +
                    "\"\ncertificate = \"" + certs_.client_cert + "\"\npkey = \"" +
                    certs_.client_key + "\"\n");
  out = Run("--config " + cfg + " database list", &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_TRUE(Contains(out, "defaultdb")) << out;

  // A certificate of another CA is refused by the server.
  out = Run("--config " + cfg + " --certificate " + certs_.other_cert + " --pkey " +
                certs_.other_key + " status",
            &code);
  EXPECT_EQ(code, 1) << out;

  // Precedence: a flag beats a variable, which beats the file.
  WriteAll(cfg, "immudb-port = 1\n");
  out = Run(TlsFlags() + " --config " + cfg + " status", &code, "", "IMMUADMIN_IMMUDB_PORT=2");
  EXPECT_EQ(code, 0) << out;  // Run's -p flag.
  const std::string bin = BinDir() + "/immuadmin";
  auto port_used = [&](const std::string& env_vars) {
    const std::string cmd =
        "HOME=" + dir_ + "/home " + env_vars + " " + bin + " --config " + cfg + " status 2>&1";
    return RunShell(cmd);
  };
  EXPECT_TRUE(Contains(port_used("IMMUADMIN_IMMUDB_PORT=2"), "127.0.0.1:2:"));
  EXPECT_TRUE(Contains(port_used(""), "127.0.0.1:1:"));

  WriteAll(cfg, "no-such-setting = 1\n");
  ExpectFailure("--config " + cfg + " status", "unknown setting 'no-such-setting'");
}

}  // namespace
}  // namespace immudb::admin::testing
