// immudb: the server binary. Flags, IMMUDB_* variables and immudb.toml are
// described in server/config.h and docs/server.md; SIGTERM and SIGINT stop it
// gracefully; --detached runs it in the background.
#include <fcntl.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <signal.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "grpc_runtime.h"
#include "server/config.h"
#include "server/log_file_sink.h"
#include "server/log_format.h"
#include "server/server.h"

extern char** environ;

namespace {

// Where a detached server reports how its startup ended (-1: not detached).
int report_fd = -1;

void Report(const std::string& text) {
  if (report_fd < 0) return;
  size_t off = 0;
  while (off < text.size()) {
    const ssize_t n = write(report_fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  close(report_fd);
  report_fd = -1;
}

// Logs a startup error (and tells a waiting launcher); returns the exit code.
int StartupFailed(const std::string& message) {
  spdlog::error("startup failed: {}", message);
  Report("error: " + message);
  return 1;
}

spdlog::level::level_enum Level(const std::string& name) {
  if (name == "debug") return spdlog::level::debug;
  if (name == "warn") return spdlog::level::warn;
  if (name == "error") return spdlog::level::err;
  return spdlog::level::info;
}

// The log goes to stdout, or to LogFilePath(): appended to, or in segments
// when a rotation limit is set (server/log_file_sink.h).
immudb::Status SetUpLogging(const immudb::server::ServerConfig& c) {
  const std::string path = c.LogFilePath();
  try {
    std::shared_ptr<spdlog::logger> logger;
    if (path.empty()) {
      logger = spdlog::stdout_color_mt("immudb");
    } else if (c.log_rotation_size > 0 || c.log_rotation_age_ms > 0) {
      auto sink =
          immudb::server::SegmentedFileSink::Open(path, c.log_rotation_size, c.log_rotation_age_ms);
      if (!sink.ok()) return sink.status();
      logger = std::make_shared<spdlog::logger>("immudb", *sink);
    } else {
      logger = spdlog::basic_logger_mt("immudb", path);
    }
    if (c.logformat == "json") logger->set_formatter(immudb::server::NewJsonLogFormatter());
    logger->set_level(Level(c.log_level));
    logger->flush_on(std::min(Level(c.log_level), spdlog::level::info));
    spdlog::set_default_logger(logger);
  } catch (const spdlog::spdlog_ex& e) {
    return immudb::Status::IOError(std::string("cannot open log ") + path + ": " + e.what());
  }
  return immudb::Status::OK();
}

// --detached: forks. The child starts a new session with its standard input
// from /dev/null and its output to the log file (appended; /dev/null when the
// log goes to stdout or is in segments) and goes on starting the server. The
// launcher waits until the child reports that it listens (exit 0, printing
// the child's PID) or that its startup failed (exit 1 with the error).
void Detach(const immudb::server::ServerConfig& c) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    std::perror("immudb: pipe");
    std::exit(1);
  }
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) {
    std::perror("immudb: fork");
    std::exit(1);
  }
  if (pid > 0) {
    close(fds[1]);
    std::string msg;
    char buf[512];
    for (;;) {
      const ssize_t n = read(fds[0], buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      msg.append(buf, static_cast<size_t>(n));
    }
    if (msg == "ok") {
      std::printf("immudb has been started with PID %d\n", static_cast<int>(pid));
      std::fflush(stdout);
      _exit(0);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (msg.rfind("error: ", 0) == 0) {
      std::fprintf(stderr, "immudb: %s\n", msg.c_str() + 7);
    } else if (WIFSIGNALED(status)) {
      std::fprintf(stderr, "immudb: the server was killed by signal %d during startup\n",
                   WTERMSIG(status));
    } else {
      std::fprintf(stderr, "immudb: the server exited with status %d during startup\n",
                   WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
    _exit(1);
  }
  close(fds[0]);
  report_fd = fds[1];
  setsid();
  const int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int out = -1;
  const std::string log = c.LogFilePath();
  if (!log.empty() && c.log_rotation_size == 0 && c.log_rotation_age_ms == 0) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(log).parent_path(), ec);
    out = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  }
  if (out < 0) out = open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (in >= 0) dup2(in, 0);
  if (out >= 0) {
    dup2(out, 1);
    dup2(out, 2);
  }
  if (in > 2) close(in);
  if (out > 2) close(out);
}

std::string Executable() {
  std::error_code ec;
  const auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? "" : p.string();
}

}  // namespace

int main(int argc, char** argv) {
  immudb::rpc::TuneGrpcRuntime();
  auto parsed = immudb::server::ParseConfig(argc, argv, environ, Executable());
  if (!parsed.ok()) {
    std::cerr << "immudb: " << parsed.status().message() << "\n";
    return 2;
  }
  if (parsed->exit_now) {
    std::cout << parsed->output;
    return 0;
  }
  const immudb::server::ServerConfig& config = parsed->config;
  if (config.detached) Detach(config);
  if (immudb::Status st = SetUpLogging(config); !st.ok()) {
    std::cerr << "immudb: " << st.message() << "\n";
    Report("error: " + std::string(st.message()));
    return 1;
  }
  if (!config.config.empty()) spdlog::info("config file: {}", config.config);
  for (const std::string& setting : config.non_defaults) spdlog::info("setting {}", setting);
  for (const std::string& warning : config.warnings) spdlog::warn("{}", warning);

  // Block the stop signals in every thread; one thread waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  // gRPC reads its polling engine when it starts, which is after this.
  if (!config.grpc_poll_strategy.empty()) {
    setenv("GRPC_POLL_STRATEGY", config.grpc_poll_strategy.c_str(), 1);
  }
  if (config.grpc_reflection) grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  auto server = immudb::server::Server::Open(config);
  if (!server.ok()) return StartupFailed(std::string(server.status().message()));
  immudb::Status st = (*server)->Start();
  if (!st.ok()) return StartupFailed(std::string(st.message()));
  if (!config.pidfile.empty()) {
    std::ofstream pf(config.pidfile, std::ios::trunc);
    pf << getpid() << "\n";
    pf.close();
    if (!pf) {
      (void)(*server)->Shutdown();
      return StartupFailed("cannot write pidfile " + config.pidfile);
    }
  }
  spdlog::info(
      "you can now use immuadmin and immuclient CLIs to login with the immudb superadmin "
      "user and start using immudb");
  Report("ok");

  immudb::server::Server* srv = server->get();
  std::thread stopper([srv, stop_signals] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    spdlog::info("received signal {}, shutting down", sig);
    immudb::Status s = srv->Shutdown();
    if (!s.ok()) spdlog::error("shutdown: {}", s.message());
  });
  srv->Wait();
  stopper.join();
  if (!config.pidfile.empty()) {
    std::error_code ec;
    std::filesystem::remove(config.pidfile, ec);
  }
  spdlog::info("immudb stopped");
  return 0;
}
