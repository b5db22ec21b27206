// Server: one immudb server process's gRPC server and its state. Open sets up
// the data directory (identifier, systemdb with the sysadmin user, defaultdb),
// Start listens, Shutdown stops accepting calls, waits for running ones and
// closes the databases. Thread-safe: Shutdown may be called from any thread.
#pragma once

#include <grpcpp/server.h>

#include <memory>
#include <mutex>

#include "immudb/result.h"
#include "server/config.h"
#include "server/metrics.h"
#include "server/queued_dispatch.h"
#include "server/reflection_service.h"
#include "server/replicator.h"
#include "server/rest_gateway.h"
#include "server/service.h"
#include "server/truncator.h"

namespace immudb::server {

class Server {
 public:
  // Prepares the data directory and the databases; does not listen yet.
  static Result<std::unique_ptr<Server>> Open(const ServerConfig& config);
  ~Server();

  // Listens on config.address:config.port (port 0 picks a free port).
  // Unavailable if the address cannot be bound; InvalidArgument for unreadable
  // TLS files.
  Status Start();
  // The port actually bound (after Start).
  int port() const { return port_; }
  const std::string& uuid() const { return state_.uuid; }
  // The metrics port actually bound (after Start; 0 when disabled).
  int metrics_port() const { return metrics_ ? metrics_->port() : 0; }
  // The REST port actually bound (after Start; 0 when disabled or unbound).
  int web_port() const { return web_ ? web_->port() : 0; }
  // The periodic truncators (after Start).
  const TruncationManager* truncation() const { return truncation_.get(); }
  // Blocks until Shutdown.
  void Wait();
  // Idempotent.
  Status Shutdown();

 private:
  Server() = default;
  Status Init(const ServerConfig& config);
  void StartWebServer();

  ServerState state_;
  std::unique_ptr<ImmuServiceImpl> service_;
  std::unique_ptr<AuthorizationServiceImpl> auth_service_;
  // --grpc-dispatch=queues. Destroyed after grpc_: its completion queues
  // outlive the gRPC server.
  std::unique_ptr<ReflectionServiceImpl> reflection_;  // --grpc-dispatch=queues only.
  std::unique_ptr<QueuedServer> queued_;
  std::unique_ptr<grpc::Server> grpc_;
  RpcMetrics rpc_metrics_;
  std::unique_ptr<MetricsServer> metrics_;
  std::unique_ptr<ReplicationManager> replication_;  // Replicas that follow a primary.
  std::unique_ptr<TruncationManager> truncation_;    // Databases with a retention period.
  std::unique_ptr<RestGateway> web_;
  int port_ = 0;
  std::mutex mu_;
  bool shut_down_ = false;  // GUARDED_BY(mu_)
};

}  // namespace immudb::server
