// build/bin/immuclient against a real build/bin/immudb: outputs of each
// command (wire-api.md §11.1), token and state files with mode 0600.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "server_process.h"

namespace immudb::client {
namespace {

using testing::BinDir;
using testing::ServerProcess;

class ClientImmuclientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/immuclient_test_" + std::to_string(getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ + "/home");
    server_ = std::make_unique<ServerProcess>(dir_ + "/server");
    std::string error;
    ASSERT_TRUE(server_->Start(&error)) << error;
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Runs immuclient with `args` (shell words) and `input` on stdin; returns
  // stdout and stderr together and stores the exit code in *code.
  std::string Run(const std::string& args, int* code = nullptr, const std::string& input = "") {
    const std::string cmd = "printf '%s' '" + input + "' | HOME=" + dir_ + "/home " + BinDir() +
                            "/immuclient -p " + std::to_string(server_->port()) + " " + args +
                            " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
    int status = pclose(p);
    if (code != nullptr) *code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return out;
  }

  int Mode(const std::string& path) {
    struct stat st;
    return stat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 0777) : -1;
  }

  std::string dir_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(ClientImmuclientTest, SessionAndKeyValueCommands) {
  EXPECT_EQ(Run("status"), "Health check OK\n");
  EXPECT_EQ(Run("version"), "immuclient " IMMUDB_VERSION_STRING "\n");
  int code = 0;
  std::string out = Run("set k v", &code);
  EXPECT_NE(code, 0);
  EXPECT_NE(out.find("not logged in"), std::string::npos) << out;

  out = Run("login immudb", &code, "immudb\n");
  EXPECT_EQ(code, 0);
  EXPECT_TRUE(out.starts_with("Successfully logged in\n")) << out;
  EXPECT_EQ(Mode(dir_ + "/home/token"), 0600);

  EXPECT_EQ(Run("current"), "database 'defaultdb' is empty\n");
  EXPECT_EQ(Run("safeset k1 v1"),
            "tx:       1\nrev:      1\nkey:      k1\nvalue:    v1\nverified: true\n");
  EXPECT_EQ(Run("set k1 v2"), "tx:       2\nrev:      2\nkey:      k1\nvalue:    v2\n");
  EXPECT_EQ(Run("set k2", nullptr, "from stdin"),
            "tx:       3\nrev:      1\nkey:      k2\nvalue:    from stdin\n");
  EXPECT_EQ(Run("get k1"), "tx:       2\nrev:      2\nkey:      k1\nvalue:    v2\n");
  EXPECT_EQ(Run("get k1@1"), "tx:       1\nrev:      1\nkey:      k1\nvalue:    v1\n");
  EXPECT_EQ(Run("--value-only get k1"), "v2\n");
  EXPECT_EQ(Run("safeget k1"),
            "tx:       2\nrev:      2\nkey:      k1\nvalue:    v2\nverified: true\n");
  EXPECT_EQ(Run("get nope"), "key not found: nope\n");
  EXPECT_EQ(Run("history k1"),
            "tx:       1\nrev:      1\nkey:      k1\nvalue:    v1\n\n"
            "tx:       2\nrev:      2\nkey:      k1\nvalue:    v2\n");
  EXPECT_EQ(Run("--value-only scan k"), "v2\nfrom stdin\n");
  EXPECT_EQ(Run("scan zz"), "no entries\n");
  EXPECT_EQ(Run("count k"), "2\n");

  out = Run("tx 2");
  EXPECT_TRUE(out.starts_with("tx:       2\ntime:     ")) << out;
  EXPECT_NE(out.find("\nentries:  1\nhash:     "), std::string::npos) << out;
  out = Run("safetx 2");
  EXPECT_TRUE(out.ends_with("verified: true\n")) << out;
  out = Run("current");
  EXPECT_TRUE(out.starts_with("database:  defaultdb\ntxID:      3\nhash:      ")) << out;
  EXPECT_EQ(out.size(),
            std::string("database:  defaultdb\ntxID:      3\nhash:      \n").size() + 64);

  // The trusted state is in $HOME with mode 0600.
  int states = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir_ + "/home")) {
    if (f.path().filename().string().starts_with(".immudb-state-")) {
      ++states;
      EXPECT_EQ(Mode(f.path().string()), 0600);
    }
  }
  EXPECT_EQ(states, 1);

  EXPECT_EQ(Run("use defaultdb"), "Now using defaultdb\n");
  EXPECT_EQ(Run("logout"), "Successfully logged out\n");
  EXPECT_EQ(Run("logout"), "User not logged in\n");
}

TEST_F(ClientImmuclientTest, FlagsFromEnvironmentAndAutoLogin) {
  const std::string env = "IMMUCLIENT_USERNAME=immudb IMMUCLIENT_PASSWORD=immudb ";
  // Without a token file or credentials the command fails.
  int code = 0;
  std::string out = Run("--tokenfile " + dir_ + "/tok --dir " + dir_ + " safeset a b", &code);
  EXPECT_NE(code, 0) << out;
  // With credentials and the port from IMMUCLIENT_* it logs in by itself.
  const std::string cmd = "env " + env + "HOME=" + dir_ +
                          "/home IMMUCLIENT_IMMUDB_PORT=" + std::to_string(server_->port()) + " " +
                          BinDir() + "/immuclient --dir " + dir_ + " safeset a b 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  char buf[4096];
  out.clear();
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  EXPECT_EQ(pclose(p), 0) << out;
  EXPECT_EQ(out, "tx:       1\nrev:      1\nkey:      a\nvalue:    b\nverified: true\n");
}

}  // namespace
}  // namespace immudb::client
