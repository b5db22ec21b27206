// ServerProcess: build/bin/immudb as a child process on a free loopback port
// (--port 0; the port is read from the server's log) with its own data
// directory, stopped by PID (SIGTERM, then SIGKILL after a bound). For client
// tests. Thread-compatible.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace immudb::client::testing {

// The directory of the built binaries (IMMUDB_BIN_DIR).
std::string BinDir();

// Runs `cmd` with /bin/sh and returns its standard output; its exit code
// (-1 when it did not exit normally) goes to *code when given.
std::string RunShell(const std::string& cmd, int* code = nullptr);

// Starts `args` (args[0] is the program's path) as a child process with its
// stdout and stderr going to the file `log`; returns its PID (-1 when fork
// fails). The caller waits for it.
pid_t Spawn(const std::vector<std::string>& args, const std::string& log);

class ServerProcess {
 public:
  // `dir` is the scratch directory (data and log go below it); `extra_args`
  // are appended to the command line.
  ServerProcess(std::string dir, std::vector<std::string> extra_args = {});
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Starts the server and waits (at most 30 s) until it listens; returns false
  // with the log in *error otherwise.
  bool Start(std::string* error);
  void Stop();

  int port() const { return port_; }
  std::string target() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  std::string dir_;
  std::vector<std::string> extra_args_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace immudb::client::testing
