// `immuclient audit-mode install|uninstall|start|stop|restart|status`
// (cmd/immuclient/audit_service.h): the service's files under a scratch root,
// the installed settings driving a real audit run, and systemctl calls
// through a stub that records its arguments.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cmd/common/systemd_service.h"
#include "server_process.h"
#include "testutil/test_util.h"

namespace immudb::client {
namespace {

using testing::BinDir;
using testing::RunShell;
using testing::ServerProcess;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

int Mode(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 07777) : -1;
}

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class AuditServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testutil::FreshTestDir("audit_service_test"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Runs immuclient with `args` (and `env` assignments first); exit code in
  // *code, stdout and stderr returned.
  std::string Immuclient(const std::string& args, int* code, const std::string& env = "") {
    return RunShell(env + (env.empty() ? "" : " ") + BinDir() + "/immuclient " + args + " 2>&1",
                    code);
  }

  std::string dir_;
};

TEST_F(AuditServiceTest, InstallWritesUnitAndSettingsUnderRoot) {
  ServerProcess server(dir_ + "/server");
  std::string error;
  ASSERT_TRUE(server.Start(&error)) << error;
  int code = -1;
  std::string out = Immuclient("-p " + std::to_string(server.port()) +
                                   " --username immudb --password immudb --dir " + dir_ +
                                   " --tokenfile " + dir_ + "/token set k v",
                               &code);
  ASSERT_EQ(code, 0) << out;

  const std::string root = dir_ + "/root";
  const std::string unit_path = root + "/etc/systemd/system/immuclient.service";
  const std::string config_path = root + "/etc/immuclient/immuclient.toml";
  const std::string state_dir = root + "/var/lib/immuclient/auditor";
  const std::string self = std::filesystem::canonical(BinDir() + "/immuclient").string();
  // Settings from a flag before the command, one after it and a variable.
  const std::string install = "-p " + std::to_string(server.port()) +
                              " --audit-password immudb audit-mode install --root " + root +
                              " --audit-monitoring-port -1";
  const std::string env = "IMMUCLIENT_AUDIT_INTERVAL=50ms";
  out = Immuclient(install, &code, env);
  ASSERT_EQ(code, 0) << out;
  EXPECT_TRUE(Has(out, "immuclient audit service installed")) << out;

  const std::string unit = ReadAll(unit_path);
  EXPECT_TRUE(Has(unit, "[Unit]\n")) << unit;
  EXPECT_TRUE(Has(unit, "\nExecStart=" + self + " --config " + config_path + " audit-mode\n"))
      << unit;
  EXPECT_TRUE(Has(unit, "\nWantedBy=multi-user.target\n")) << unit;
  EXPECT_EQ(Mode(unit_path), 0644);
  const std::string config = ReadAll(config_path);
  EXPECT_TRUE(Has(config, "\nimmudb-port = \"" + std::to_string(server.port()) + "\"\n")) << config;
  EXPECT_TRUE(Has(config, "\naudit-password = \"immudb\"\n")) << config;
  EXPECT_TRUE(Has(config, "\naudit-monitoring-port = \"-1\"\n")) << config;
  EXPECT_TRUE(Has(config, "\naudit-interval = \"50ms\"\n")) << config;
  EXPECT_TRUE(Has(config, "\nroots-filepath = \"" + state_dir + "\"\n")) << config;
  EXPECT_FALSE(Has(config, "audit-username")) << config;  // defaults stay defaults
  EXPECT_EQ(Mode(config_path), 0600);                     // it holds the audit password
  EXPECT_EQ(Mode(state_dir), 0700);

  // The unit's command line, bounded to two runs, audits with those settings.
  const std::string exec = unit.substr(unit.find("ExecStart=") + 10);
  out = RunShell(exec.substr(0, exec.find('\n')) + " --audit-runs 2 2>&1", &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_TRUE(Has(out, "audit #2 result: db: defaultdb, consistent: true")) << out;
  EXPECT_TRUE(Has(out, "auditor state file: " + state_dir + "/")) << out;

  // A second install changes nothing.
  out = Immuclient(install, &code, env);
  EXPECT_EQ(code, 1);
  EXPECT_TRUE(Has(out, "already installed")) << out;
  EXPECT_EQ(ReadAll(config_path), config);

  out = Immuclient("audit-mode uninstall --root " + root, &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_FALSE(std::filesystem::exists(unit_path));
  EXPECT_FALSE(std::filesystem::exists(config_path));
  EXPECT_FALSE(std::filesystem::is_empty(state_dir));  // trusted states are kept
  out = Immuclient("audit-mode uninstall --root " + root, &code);
  EXPECT_EQ(code, 1);
  EXPECT_TRUE(Has(out, "not installed")) << out;
}

TEST_F(AuditServiceTest, InstallRejectsBadInputWritingNothing) {
  const std::string root = dir_ + "/root";
  int code = -1;
  for (const auto& [args, message] : std::vector<std::pair<std::string, std::string>>{
           {"--audit-runs 2", "--audit-runs does not apply to a service"},
           {"--audit-interval 5x", "invalid duration"},
           {"--audit-password enc:***", "password"},
       }) {
    const std::string out = Immuclient("audit-mode install --root " + root + " " + args, &code);
    EXPECT_EQ(code, 1) << args << out;
    EXPECT_TRUE(Has(out, message)) << args << out;
    EXPECT_FALSE(std::filesystem::exists(root)) << args;
  }
  // A config left behind is not overwritten.
  std::filesystem::create_directories(root + "/etc/immuclient");
  std::ofstream(root + "/etc/immuclient/immuclient.toml") << "audit-username = \"mine\"\n";
  std::string out = Immuclient("audit-mode install --root " + root, &code);
  EXPECT_EQ(code, 1);
  EXPECT_TRUE(Has(out, "already exists")) << out;
  EXPECT_EQ(ReadAll(root + "/etc/immuclient/immuclient.toml"), "audit-username = \"mine\"\n");
  EXPECT_FALSE(std::filesystem::exists(root + "/etc/systemd"));
}

// Only the superuser may install under the real "/".
TEST(AuditServiceRoot, InstallingUnderSlashNeedsRoot) {
  EXPECT_EQ(systemd::CheckCanWriteRoot("/", 1000).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(systemd::CheckCanWriteRoot("/tmp/..", 1000).code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(systemd::CheckCanWriteRoot("/", 0).ok());
  EXPECT_TRUE(systemd::CheckCanWriteRoot(::testing::TempDir(), 1000).ok());
}

// start/stop/restart/status run `systemctl <action> immuclient` from the PATH
// and exit with its code.
TEST_F(AuditServiceTest, StartStopRestartStatusRunSystemctl) {
  const std::string bin = dir_ + "/stub-bin", log = dir_ + "/systemctl.log";
  std::filesystem::create_directories(bin);
  std::ofstream(bin + "/systemctl")
      << "#!/bin/sh\necho \"$*\" >> " << log << "\n[ \"$1\" = status ] && exit 3\nexit 0\n";
  std::filesystem::permissions(bin + "/systemctl", std::filesystem::perms::owner_all);
  const std::string env = "PATH=" + bin + ":/usr/bin:/bin";
  int code = -1;
  for (const char* action : {"start", "stop", "restart"}) {
    EXPECT_EQ(Immuclient(std::string("audit-mode ") + action, &code, env), "") << action;
    EXPECT_EQ(code, 0) << action;
  }
  EXPECT_EQ(Immuclient("audit-mode status", &code, env), "");
  EXPECT_EQ(code, 3);
  EXPECT_EQ(ReadAll(log),
            "start immuclient\nstop immuclient\nrestart immuclient\nstatus immuclient\n");

  std::string out = Immuclient("audit-mode start --root " + dir_, &code, env);
  EXPECT_EQ(code, 1);
  EXPECT_TRUE(Has(out, "--root applies to install and uninstall only")) << out;
  out = Immuclient("audit-mode status", &code, "PATH=" + dir_ + "/empty-path");
  EXPECT_EQ(code, 1);
  EXPECT_TRUE(Has(out, "systemctl not found")) << out;
  out = Immuclient("audit-mode reload", &code, env);
  EXPECT_NE(code, 0);
  EXPECT_EQ(ReadAll(log).find("reload"), std::string::npos);
}

}  // namespace
}  // namespace immudb::client
