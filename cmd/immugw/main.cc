// immugw: a REST proxy in front of one or more immudb servers that verifies
// proofs on behalf of its clients (docs/immugw.md). Runs until SIGINT or SIGTERM.
#include <signal.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "cmd/immugw/config.h"
#include "cmd/immugw/gateway.h"
#include "grpc_runtime.h"

extern char** environ;

int main(int argc, char** argv) {
  immudb::rpc::TuneGrpcRuntime();
  using immudb::gateway::Gateway;
  auto cmd = immudb::gateway::ParseGatewayCommand(argc, argv, environ);
  if (!cmd.ok()) {
    std::cerr << "immugw: " << cmd.status().message() << "\n";
    return 1;
  }
  if (cmd->exit_now) {
    std::cout << cmd->output;
    return 0;
  }
  if (!cmd->logfile.empty()) {
    try {
      spdlog::set_default_logger(spdlog::basic_logger_mt("immugw", cmd->logfile));
      spdlog::flush_on(spdlog::level::info);
    } catch (const spdlog::spdlog_ex& e) {
      std::cerr << "immugw: cannot open log file " << cmd->logfile << ": " << e.what() << "\n";
      return 1;
    }
  }
  immudb::gateway::GatewayOptions options = cmd->options;
  options.audit_options.log = [](const std::string& line) { spdlog::info("{}", line); };

  // Block the stop signals before any thread starts, then wait for them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  auto gw = Gateway::Create(std::move(options));
  if (!gw.ok()) {
    spdlog::error("immugw: {}", gw.status().message());
    return 1;
  }
  if (!cmd->pidfile.empty()) {
    std::ofstream pid(cmd->pidfile, std::ios::trunc);
    pid << getpid() << "\n";
    if (!pid) {
      spdlog::error("immugw: cannot write pid file {}", cmd->pidfile);
      return 1;
    }
  }
  if (!cmd->config.empty()) spdlog::info("config file: {}", cmd->config);
  immudb::Status st = (*gw)->Start();
  if (!st.ok()) {
    spdlog::error("{}", st.message());
    return 1;
  }
  spdlog::info("immugw forwarding to immudb at {}:{}", cmd->options.immudb_address,
               cmd->options.immudb_port);
  spdlog::info("trusted states in {}", (*gw)->state_path());
  for (const immudb::gateway::ServerOptions& s : cmd->options.servers) {
    spdlog::info("server {} under /servers/{}: immudb at {}:{}, trusted states in {}", s.name,
                 s.name, s.address, s.port, (*gw)->state_path(s.name));
  }
  if (cmd->options.audit)
    spdlog::info("auditor of every server running every {} ms",
                 cmd->options.audit_options.interval.count());
  spdlog::info("immugw listening on {}:{}", cmd->options.address, (*gw)->port());
  spdlog::default_logger()->flush();
  int sig = 0;
  sigwait(&stop, &sig);
  spdlog::info("stopping (signal {})", sig);
  (*gw)->Stop();
  if (!cmd->pidfile.empty()) std::remove(cmd->pidfile.c_str());
  return 0;
}
