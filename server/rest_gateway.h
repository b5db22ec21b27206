// RestGateway: immudb's REST/JSON API (grpc-gateway v1 compatible,
// wire-api.md §8) on the web-server port. Every REST call is turned into the
// matching gRPC call on a channel to the server's own gRPC services (the
// server passes an in-process channel), so authentication, permissions,
// validation and errors are those of the gRPC handlers:
//   /api/<route>, /api/v2/<route>   the routes of RestRoutes()
//   /api/docs/                      OpenAPI 2.0 document (when swagger_ui)
//   anything else                   307 to /missing/ (no web console)
// JSON uses the proto field names, 64-bit integers as strings, bytes as
// base64, enums as names, and omits default values; errors are
// {"error":..., "code": <gRPC code>, "message":..., "details": []} with grpc-gateway's HTTP
// status for the gRPC code. Start/Stop are called by the Server only;
// connections are served concurrently, within options.limits
// (server/http_guard.h), so idle or slow clients cannot starve the port.
#pragma once

#include <grpcpp/channel.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "immudb/result.h"
#include "server/http_guard.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace immudb::server {

// One HTTP binding of an RPC (the google.api.http options of immudb's proto).
struct RestRoute {
  const char* verb;    // "GET" or "POST".
  const char* path;    // Relative to /api; "{field}" binds one path segment.
  const char* method;  // Full proto name: "immudb.schema.ImmuService.Get".
  bool body;           // The whole request message is the JSON body.
  bool open;           // Needs no credentials (documentation only).
};

// Every route the gateway serves, in a fixed order.
const std::vector<RestRoute>& RestRoutes();

// The OpenAPI 2.0 (Swagger) document of RestRoutes(), as JSON text
// (openapi.cc). Definitions are derived from the proto descriptors.
std::string OpenApiDocument();

// HTTP status grpc-gateway v1 sends for a gRPC status code (0..16).
int HttpStatusFromGrpcCode(int code);

struct RestGatewayOptions {
  std::string address = "0.0.0.0";
  int port = 8080;  // 0 picks a free port.
  // HTTPS with this certificate and key (PEM files) when certificate is set;
  // with mtls, clients must present a certificate signed by clientcas.
  std::string certificate;
  std::string pkey;
  bool mtls = false;
  std::string clientcas;
  bool swagger_ui = true;
  // Authentication is off and remote callers are not allowed (no --devmode):
  // requests from non-loopback addresses get immudb's PERMISSION_DENIED.
  bool local_clients_only = false;
  // Largest request body accepted (413 above it).
  size_t max_body_bytes = size_t{64} << 20;
  // Open connections, idle and header timeouts (server/http_guard.h).
  HttpLimits limits;
};

class RestGateway {
 public:
  // `channel` reaches the server's ImmuService and AuthorizationService.
  explicit RestGateway(std::shared_ptr<grpc::Channel> channel);
  ~RestGateway();
  RestGateway(const RestGateway&) = delete;
  RestGateway& operator=(const RestGateway&) = delete;

  // Listens on options.address:options.port in background threads.
  // Unavailable if the address cannot be bound; InvalidArgument if the TLS
  // files cannot be loaded.
  Status Start(const RestGatewayOptions& options);
  // The port actually bound (after Start; 0 when not listening).
  int port() const { return port_; }
  // Stops accepting connections and waits for the requests being served.
  // Idempotent.
  void Stop();

 private:
  void Handle(const httplib::Request& req, httplib::Response& res);
  void Forward(const RestRoute& route, const std::vector<std::string>& segments,
               const httplib::Request& req, httplib::Response& res);

  std::shared_ptr<grpc::Channel> channel_;
  RestGatewayOptions options_;
  std::string openapi_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  std::atomic<bool> listen_returned_{false};
  int port_ = 0;
};

}  // namespace immudb::server
