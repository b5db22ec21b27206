// Test fixture for build/bin/immuclient: a real build/bin/immudb child on a
// free loopback port (with ServerArgs()), a scratch HOME, and a runner for
// immuclient against it.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "server_process.h"
#include "testutil/test_util.h"

namespace immudb::client::testing {

class ClientImmuclientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testutil::FreshTestDir("immuclient_test");
    std::filesystem::create_directories(dir_ + "/home");
    const std::vector<std::string> args = ServerArgs();
    if (HasFailure()) return;
    server_ = std::make_unique<ServerProcess>(dir_ + "/server", args);
    std::string error;
    ASSERT_TRUE(server_->Start(&error)) << error;
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Extra flags of the server; called once dir_ exists.
  virtual std::vector<std::string> ServerArgs() { return {}; }

  // Runs immuclient with `args` (shell words) and `input` on stdin; returns
  // stdout and stderr together and stores the exit code in *code.
  std::string Run(const std::string& args, int* code = nullptr, const std::string& input = "") {
    const std::string cmd = "printf '%s' '" + input + "' | HOME=" + dir_ + "/home " + BinDir() +
                            "/immuclient -p " + std::to_string(server_->port()) + " " + args +
                            " 2>&1";
    return RunShell(cmd, code);
  }

  static int Mode(const std::string& path) {
    struct stat st;
    return stat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 0777) : -1;
  }

  std::string dir_;
  std::unique_ptr<ServerProcess> server_;
};

}  // namespace immudb::client::testing
