// immudb: the server binary. Flags, IMMUDB_* variables and immudb.toml are
// described in server/config.h; SIGTERM and SIGINT stop it gracefully.
#include <signal.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "grpc_runtime.h"
#include "server/config.h"
#include "server/log_format.h"
#include "server/server.h"

extern char** environ;

namespace {

bool SetUpLogging(const immudb::server::ServerConfig& c) {
  try {
    std::shared_ptr<spdlog::logger> logger;
    if (c.logfile.empty()) {
      logger = spdlog::stdout_color_mt("immudb");
    } else {
      logger = spdlog::basic_logger_mt("immudb", c.logfile);
    }
    if (c.logformat == "json") logger->set_formatter(immudb::server::NewJsonLogFormatter());
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(logger);
  } catch (const spdlog::spdlog_ex& e) {
    std::cerr << "immudb: cannot open log: " << e.what() << "\n";
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  immudb::rpc::TuneGrpcRuntime();
  auto parsed = immudb::server::ParseConfig(argc, argv, environ);
  if (!parsed.ok()) {
    std::cerr << "immudb: " << parsed.status().message() << "\n";
    return 2;
  }
  if (parsed->exit_now) {
    std::cout << parsed->output;
    return 0;
  }
  const immudb::server::ServerConfig& config = parsed->config;
  if (!SetUpLogging(config)) return 1;
  if (!config.config.empty()) spdlog::info("config file: {}", config.config);
  for (const std::string& setting : config.non_defaults) spdlog::info("setting {}", setting);

  // Block the stop signals in every thread; one thread waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto server = immudb::server::Server::Open(config);
  if (!server.ok()) {
    spdlog::error("startup failed: {}", server.status().message());
    return 1;
  }
  immudb::Status st = (*server)->Start();
  if (!st.ok()) {
    spdlog::error("startup failed: {}", st.message());
    return 1;
  }
  if (!config.pidfile.empty()) {
    std::ofstream pf(config.pidfile, std::ios::trunc);
    pf << getpid() << "\n";
    if (!pf) {
      spdlog::error("cannot write pidfile {}", config.pidfile);
      (void)(*server)->Shutdown();
      return 1;
    }
  }
  spdlog::info(
      "you can now use immuadmin and immuclient CLIs to login with the immudb superadmin "
      "user and start using immudb");

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
