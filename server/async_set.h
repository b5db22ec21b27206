// Set through gRPC's async API, on completion queues polled by threads of
// our own. Each thread gathers the Set calls that are ready, queues their
// commits, then commits them itself as one group (store::CommitHere) and
// finishes their calls: the replies of a group are sent, and their
// completions reaped, by the thread that committed it, with no gRPC thread
// woken per reply.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <thread>
#include <vector>

#include "server/service.h"

namespace immudb::server {

class AsyncSetServer {
 public:
  // Adds `threads` completion queues to `builder` for `service`'s Set.
  AsyncSetServer(ImmuServiceImpl* service, grpc::ServerBuilder* builder, int threads);
  // Waits for the threads: call Shutdown first.
  ~AsyncSetServer();

  // After the gRPC server started: starts one thread per queue.
  void Start();
  // After the gRPC server's Shutdown returned (no call in progress): shuts
  // the queues down, drains them and joins their threads. Idempotent.
  void Shutdown();

 private:
  void Run(grpc::ServerCompletionQueue* cq);

  ImmuServiceImpl* service_;
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> cqs_;
  std::vector<std::thread> threads_;
  bool started_ = false;
  bool shut_down_ = false;
};

}  // namespace immudb::server
