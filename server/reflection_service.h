// gRPC server reflection (grpc.reflection.v1alpha.ServerReflection) for
// --grpc-dispatch=queues, where no gRPC-registered service may run (callback
// mode serves it through gRPC's own reflection plugin). Answers from the
// process's generated descriptor pool, as the plugin does.
#pragma once

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/sync_stream.h>

#include <string>
#include <vector>

#include "reflection_wire.pb.h"
#include "server/blocking_pool.h"

namespace immudb::server {

struct ServerState;

class ReflectionServiceImpl {
 public:
  // `services`: the full names list_services answers with.
  ReflectionServiceImpl(const ServerState* state, BlockingPool* stream_pool,
                        std::vector<std::string> services)
      : s_(state), stream_pool_(stream_pool), services_(std::move(services)) {}
  static constexpr const char* kServicePath = "/grpc.reflection.v1alpha.ServerReflection/";
  const ServerState* state() const { return s_; }
  BlockingPool* stream_pool() { return stream_pool_; }

  // The bidirectional ServerReflectionInfo: one response per request, until
  // the client ends its stream.
  grpc::Status DoServerReflectionInfo(
      grpc::ServerContextBase* ctx,
      grpc::ServerReaderWriterInterface<reflection_wire::ServerReflectionResponse,
                                        reflection_wire::ServerReflectionRequest>* stream);

  // The response to one request: a file comes with every file it imports.
  void Answer(const reflection_wire::ServerReflectionRequest& req,
              reflection_wire::ServerReflectionResponse* resp) const;

 private:
  const ServerState* s_;
  BlockingPool* stream_pool_;
  std::vector<std::string> services_;
};

}  // namespace immudb::server
