#include "server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace immudb::client::testing {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::string BinDir() {
  const char* env = std::getenv("IMMUDB_BIN_DIR");
  return env != nullptr ? env : IMMUDB_BIN_DIR;
}

std::string RunShell(const std::string& cmd, int* code) {
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  if (p == nullptr) {
    if (code != nullptr) *code = -1;
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  const int status = pclose(p);
  if (code != nullptr) *code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

pid_t Spawn(const std::vector<std::string>& args, const std::string& log) {
  // Everything the child needs is made before fork.
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (std::string& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

ServerProcess::ServerProcess(std::string dir, std::vector<std::string> extra_args)
    : dir_(std::move(dir)), extra_args_(std::move(extra_args)) {}

ServerProcess::~ServerProcess() { Stop(); }

bool ServerProcess::Start(std::string* error) {
  std::filesystem::create_directories(dir_);
  const std::string log = dir_ + "/immudb.log";
  std::filesystem::remove(log);
  std::vector<std::string> args = {BinDir() + "/immudb",
                                   "--dir",
                                   dir_ + "/data",
                                   "--address",
                                   "127.0.0.1",
                                   "--port",
                                   "0",
                                   "--metrics-server=false",
                                   "--web-server=false"};
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  pid_ = Spawn(args, log);
  if (pid_ < 0) {
    *error = "fork failed";
    return false;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  const std::string marker = "listening on 127.0.0.1:";
  while (std::chrono::steady_clock::now() < deadline) {
    std::string text = ReadFile(log);
    size_t at = text.find(marker);
    // Only a whole line: the log may end inside the number.
    if (at != std::string::npos && text.find('\n', at) != std::string::npos) {
      port_ = std::atoi(text.c_str() + at + marker.size());
      if (port_ > 0) return true;
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      *error = "immudb exited early: " + text;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  *error = "immudb did not start: " + ReadFile(log);
  Stop();
  return false;
}

void ServerProcess::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  int status = 0;
  while (waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
}

}  // namespace immudb::client::testing
