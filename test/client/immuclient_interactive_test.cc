// immuclient's interactive mode driven through a pseudo-terminal: lines run
// like command lines, TAB completes command names, history is kept, and
// "exit" leaves with status 0.
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "server_process.h"
#include "testutil/test_util.h"

namespace immudb::client {
namespace {

using testing::BinDir;
using testing::ServerProcess;

class ClientInteractiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testutil::FreshTestDir("immuclient_it_test");
    std::filesystem::create_directories(dir_ + "/home");
    server_ = std::make_unique<ServerProcess>(dir_ + "/server");
    std::string error;
    ASSERT_TRUE(server_->Start(&error)) << error;
  }
  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (master_ >= 0) close(master_);
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Starts immuclient with `args` on a new pseudo-terminal.
  void Spawn(std::vector<std::string> args) {
    args.insert(args.begin(),
                {BinDir() + "/immuclient", "-p", std::to_string(server_->port()), "--dir", dir_});
    const std::string home = dir_ + "/home";
    pid_ = forkpty(&master_, nullptr, nullptr, nullptr);
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      setenv("HOME", home.c_str(), 1);
      setenv("TERM", "vt100", 1);
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
  }

  void Type(const std::string& keys) {
    ASSERT_EQ(write(master_, keys.data(), keys.size()), static_cast<ssize_t>(keys.size()));
  }

  // Reads the terminal until `want` has appeared after what was already
  // consumed (at most 10 s); returns everything read since then.
  std::string Expect(const std::string& want) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (true) {
      size_t at = screen_.find(want, consumed_);
      if (at != std::string::npos) {
        std::string seen = screen_.substr(consumed_, at + want.size() - consumed_);
        consumed_ = at + want.size();
        return seen;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{master_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char buf[4096];
      ssize_t n = read(master_, buf, sizeof(buf));
      if (n <= 0) break;
      screen_.append(buf, static_cast<size_t>(n));
    }
    ADD_FAILURE() << "did not see '" << want << "' in:\n" << screen_.substr(consumed_);
    return "";
  }

  // Waits (at most 10 s) for immuclient to exit; returns its exit code.
  int Wait() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    char buf[4096];
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      pollfd p{master_, POLLIN, 0};
      if (poll(&p, 1, 20) > 0 && read(master_, buf, sizeof(buf)) < 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    return -2;
  }

  std::string dir_;
  std::unique_ptr<ServerProcess> server_;
  pid_t pid_ = -1;
  int master_ = -1;
  std::string screen_;
  size_t consumed_ = 0;
};

TEST_F(ClientInteractiveTest, LinesRunAsCommandsWithCompletionAndHistory) {
  Spawn({"--username", "immudb", "--password", "immudb", "it"});
  Expect("immuclient>");
  Type("set a b\r");
  std::string out = Expect("immuclient>");
  EXPECT_NE(out.find("tx:       1"), std::string::npos) << out;
  EXPECT_NE(out.find("value:    b"), std::string::npos) << out;
  Type("get a\r");
  out = Expect("immuclient>");
  EXPECT_NE(out.find("key:      a"), std::string::npos) << out;
  EXPECT_NE(out.find("value:    b"), std::string::npos) << out;
  // "safes" + TAB completes to "safeset " (the terminal shows it redrawn,
  // so the proof is that the completed line runs as a safeset).
  Type("safes\tc d\r");
  out = Expect("immuclient>");
  EXPECT_NE(out.find("key:      c"), std::string::npos) << out;
  EXPECT_NE(out.find("verified: true"), std::string::npos) << out;
  // Errors are reported and the prompt comes back.
  Type("nosuchcommand\r");
  out = Expect("immuclient>");
  EXPECT_NE(out.find("nosuchcommand"), std::string::npos) << out;
  Type("--value-only get a\r");
  out = Expect("immuclient>");
  EXPECT_NE(out.find("\nb\r\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("key:"), std::string::npos) << out;
  Type("exit\r");
  EXPECT_EQ(Wait(), 0);

  std::ifstream in(dir_ + "/home/.immuclient_history");
  std::stringstream history;
  history << in.rdbuf();
  // libedit writes spaces as \040.
  const std::string h = history.str();
  EXPECT_NE(h.find("\nset\\040a\\040b\n"), std::string::npos) << h;
  EXPECT_NE(h.find("\nsafeset\\040c\\040d\n"), std::string::npos) << h;
}

TEST_F(ClientInteractiveTest, NoArgumentsStartsThePromptAndLoginHoldsForLaterLines) {
  Spawn({});
  Expect("immuclient>");
  Type("login immudb\r");
  Expect("Password:");
  Type("immudb\r");
  std::string out = Expect("immuclient>");
  EXPECT_NE(out.find("Successfully logged in"), std::string::npos) << out;
  EXPECT_EQ(out.find("immudb\r\n"), std::string::npos) << "password echoed: " << out;
  Type("safeset k v\r");
  out = Expect("immuclient>");
  EXPECT_NE(out.find("verified: true"), std::string::npos) << out;
  Type("set k\r");  // The value must be on the line in interactive mode.
  out = Expect("immuclient>");
  EXPECT_NE(out.find("ERROR: missing argument: value"), std::string::npos) << out;
  Type("logout\r");
  out = Expect("immuclient>");
  EXPECT_NE(out.find("Successfully logged out"), std::string::npos) << out;
  Type("get k\r");
  out = Expect("immuclient>");
  EXPECT_NE(out.find("not logged in"), std::string::npos) << out;
  Type("quit\r");
  EXPECT_EQ(Wait(), 0);
}

}  // namespace
}  // namespace immudb::client
