// ImmudbProcess: build/bin/immudb as a child process for server tests that
// need the real binary (signals, exit codes, pid and log files). It listens
// on a free loopback port (--port 0; the port is read from its log) with its
// data under the given directory, and is stopped by PID. Header-only, for
// server/*_test.cc.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace immudb::server::proc {

inline std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::string ImmudbBinary() {
  const char* env = std::getenv("IMMUDB_BIN_DIR");
  return std::string(env != nullptr ? env : IMMUDB_BIN_DIR) + "/immudb";
}

class ImmudbProcess {
 public:
  // `dir` holds the data (dir/data unless `args` has --dir) and the output
  // (dir/output.log); the server's log is read from `log` when given (for
  // --logfile), else from the output.
  ImmudbProcess(std::string dir, std::vector<std::string> args, std::string log = "")
      : dir_(std::move(dir)), args_(std::move(args)), log_(std::move(log)) {}
  ~ImmudbProcess() { Kill(); }
  ImmudbProcess(const ImmudbProcess&) = delete;
  ImmudbProcess& operator=(const ImmudbProcess&) = delete;

  // Starts the binary; with `wait_listening`, waits (at most 30 s) for the
  // gRPC port. False with the output in *error otherwise.
  bool Start(std::string* error, bool wait_listening = true) {
    std::filesystem::create_directories(dir_);
    std::vector<std::string> argv = {ImmudbBinary()};
    bool has_dir = false;
    for (const std::string& a : args_) has_dir |= a == "--dir" || a.rfind("--dir=", 0) == 0;
    if (!has_dir) argv.insert(argv.end(), {"--dir", dir_ + "/data"});
    argv.insert(argv.end(), {"--address", "127.0.0.1", "--port", "0"});
    argv.insert(argv.end(), args_.begin(), args_.end());
    const std::string out = output_path();
    // No marker of an earlier run may be read.
    std::filesystem::remove(out);
    if (!log_.empty()) std::filesystem::remove(log_);
    pid_ = fork();
    if (pid_ == 0) {
      const int fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
      }
      std::vector<char*> raw;
      for (std::string& a : argv) raw.push_back(a.data());
      raw.push_back(nullptr);
      execv(raw[0], raw.data());
      _exit(127);
    }
    if (!wait_listening) return pid_ > 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    const std::string marker = "listening on 127.0.0.1:";
    while (std::chrono::steady_clock::now() < deadline) {
      const std::string text = ReadWholeFile(log_.empty() ? out : log_);
      const size_t at = text.find(marker);
      if (at != std::string::npos && (port_ = std::atoi(text.c_str() + at + marker.size())) > 0) {
        return true;
      }
      if (Exited(0)) {
        *error = "immudb exited early (" + std::to_string(exit_code_) + "): " + Output();
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    *error = "immudb did not start: " + Output();
    Kill();
    return false;
  }

  // Waits up to `timeout_s` for the process to end; true when it has.
  bool Exited(int timeout_s) {
    if (pid_ <= 0) return true;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    while (true) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
        pid_ = -1;
        return true;
      }
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  // SIGTERM, then the exit code (negative: the signal that ended it; the
  // process is killed after 30 s).
  int Terminate() {
    if (pid_ > 0) kill(pid_, SIGTERM);
    if (!Exited(30)) Kill();
    return exit_code_;
  }

  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    exit_code_ = -SIGKILL;
    pid_ = -1;
  }

  pid_t pid() const { return pid_; }
  int port() const { return port_; }
  int exit_code() const { return exit_code_; }
  std::string output_path() const { return dir_ + "/output.log"; }
  std::string Output() const { return ReadWholeFile(output_path()); }

 private:
  std::string dir_;
  std::vector<std::string> args_;
  std::string log_;
  pid_t pid_ = -1;
  int port_ = 0;
  int exit_code_ = 0;
};

}  // namespace immudb::server::proc
