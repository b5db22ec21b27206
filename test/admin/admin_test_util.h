// Test fixture for immuadmin: a real build/bin/immudb child on a free
// loopback port, a scratch HOME, and a runner for build/bin/immuadmin.
#pragma once

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "client/admin.h"
#include "client/client.h"
#include "server_process.h"
#include "testutil/test_util.h"

namespace immudb::admin::testing {

using client::testing::BinDir;
using client::testing::RunShell;
using client::testing::ServerProcess;

inline constexpr char kStrongPassword[] = "Secret_Pass1";

// A loopback port nothing listens on right now.
inline int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

using testutil::ReadAll;
using testutil::WriteAll;

class AdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testutil::FreshTestDir("immuadmin_test");
    std::filesystem::create_directories(dir_ + "/home");
    StartServer();
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  virtual std::vector<std::string> ServerArgs() { return {}; }
  void StartServer() {
    server_ = std::make_unique<ServerProcess>(dir_ + "/server", ServerArgs());
    std::string error;
    ASSERT_TRUE(server_->Start(&error)) << error;
  }

  // Runs immuadmin with `args` (shell words) and `input` on stdin; returns
  // stdout and stderr together and stores the exit code in *code.
  std::string Run(const std::string& args, int* code = nullptr, const std::string& input = "",
                  const std::string& env = "") {
    const std::string cmd = "printf '%s' '" + input + "' | HOME=" + dir_ + "/home " + env + " " +
                            BinDir() + "/immuadmin -p " + std::to_string(server_->port()) + " " +
                            args + " 2>&1";
    return RunShell(cmd, code);
  }

  // Runs immuadmin with `args`, expecting it to fail with exit code 1;
  // returns its output.
  std::string RunFailing(const std::string& args) {
    int code = -1;
    std::string out = Run(args, &code);
    EXPECT_EQ(code, 1) << args << ": " << out;
    return out;
  }
  // Runs immuadmin with `args`, expecting exit code 1 and `part` in the output.
  void ExpectFailure(const std::string& args, const std::string& part) {
    const std::string out = RunFailing(args);
    EXPECT_TRUE(Contains(out, part)) << args << ": " << out;
  }

  void Login() {
    int code = -1;
    std::string out = Run("login immudb", &code, "immudb\n");
    ASSERT_EQ(code, 0) << out;
  }

  // A library client logged in as `user`.
  std::unique_ptr<client::Client> Connect(const std::string& user = "immudb",
                                          const std::string& password = "immudb") {
    client::Options o;
    o.port = server_->port();
    o.state_dir = dir_ + "/home";
    auto c = client::Client::Open(o);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    if (!c.ok()) return nullptr;
    Status st = (*c)->Login(user, password);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return std::move(c).value();
  }

  // True when the server lists database `name`.
  bool DatabaseExists(client::Client& c, const std::string& name) {
    auto dbs = client::ListDatabases(c);
    EXPECT_TRUE(dbs.ok());
    for (const auto& d : *dbs) {
      if (d.name == name) return true;
    }
    return false;
  }

  static int Mode(const std::string& path) {
    struct stat st;
    return stat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 0777) : -1;
  }

  static bool Contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
  }

  std::string dir_;
  std::unique_ptr<ServerProcess> server_;
};

}  // namespace immudb::admin::testing
