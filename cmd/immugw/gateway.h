// Gateway: immugw, a REST proxy in front of one or more immudb servers that
// verifies on behalf of its clients (docs/immugw.md).
//
// Plain routes are immudb's REST routes (wire-api.md §2 and §8), served with
// and without the "/api" prefix and forwarded as they are to the server's
// gRPC port: JSON in, JSON out, the caller's Authorization (and sessionid)
// header passed on. Safe routes
//   POST /db/{databaseName}/verified/set           VerifiableSetRequest (one KV)
//   POST /db/{databaseName}/verified/get           VerifiableGetRequest
//   POST /db/{databaseName}/verified/setreference  VerifiableReferenceRequest
//   POST /db/{databaseName}/verified/zadd          VerifiableZAddRequest
//   GET  /db/{databaseName}/verified/tx/{tx}
// select the database with the caller's token, make the verifiable call from
// the gateway's trusted state of that database, check the proofs and answer
// with the plain result and "verified": true, or HTTP 409 (gRPC code 10,
// "tampering detected: ...") when the server's reply does not verify; the
// trusted state is then left unchanged. Trusted states are kept in a 0600
// file per server under GatewayOptions::dir that pins the server's identity.
//
// With `audit`, an Auditor (client/auditor.h) per server runs in the
// background and GET /metrics shows its metrics.
//
// The routes above reach the default server. Every further server `name`
// gets the same route table under "/servers/<name>" (the default server
// also under "/servers/default"); an unknown name gets 404.
//
// Thread-safe; requests are served concurrently, safe calls to one server one
// at a time.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "client/auditor.h"
#include "client/signature.h"
#include "client/state_store.h"
#include "immudb/result.h"
#include "schema.grpc.pb.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace immudb::gateway {

// A further immudb server behind the gateway, served under /servers/<name>.
struct ServerOptions {
  // Letters, digits, '-' and '_'; "default" names the server of
  // GatewayOptions::immudb_address/immudb_port.
  std::string name;
  std::string address = "127.0.0.1";
  int port = 3322;
  // "" = GatewayOptions::server_signing_pub_key.
  std::string server_signing_pub_key;
  // The auditor's credentials there; unset = those of audit_options.
  std::optional<std::string> audit_username;
  std::optional<std::string> audit_password;
};

struct GatewayOptions {
  std::string address = "0.0.0.0";
  int port = 3323;  // 0 picks a free port.
  // The default server: the routes without a /servers/<name> prefix (and
  // those under /servers/default).
  std::string immudb_address = "127.0.0.1";
  int immudb_port = 3322;
  // Further servers, each under /servers/<name>/ + every route.
  std::vector<ServerOptions> servers;
  // Directory of the trusted-state files (and of the auditor's, under auditor/).
  std::string dir = ".";
  // PEM public key of the server's signing key: every state trusted by the
  // safe routes (and the auditor) must carry its signature.
  std::string server_signing_pub_key;
  std::chrono::milliseconds timeout{30000};  // Per gRPC call.
  int max_recv_msg_size = 32 << 20;
  // TLS (and mTLS) to immudb, for the gateway and its auditor alike.
  client::TlsOptions tls;

  // Audit every server.
  bool audit = false;
  // Address, port, key and state_dir are taken from the fields above (and
  // from each ServerOptions).
  client::AuditorOptions audit_options;
};

// The name of the default server.
inline constexpr char kDefaultServer[] = "default";

// InvalidArgument naming the server when a name is empty, "default", not
// made of letters, digits, '-' and '_', or given twice, when a port is not
// 1..65535, or when two servers have the same address and port.
Status CheckServers(const GatewayOptions& options);

class Gateway {
 public:
  // Checks the servers, loads the public keys and creates `dir`:
  // InvalidArgument / IOError.
  static Result<std::unique_ptr<Gateway>> Create(GatewayOptions options);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Listens on address:port and serves in a background thread; starts the
  // auditors with `audit`. Unavailable when the port cannot be bound.
  Status Start();
  // Idempotent.
  void Stop();
  int port() const { return port_; }
  // Of the default server, or of server `name` (nullptr / "" when unknown).
  client::Auditor* auditor(const std::string& name = kDefaultServer);
  std::string state_path(const std::string& name = kDefaultServer) const;

 private:
  using Stub = schema::ImmuService::Stub;
  // One server behind the gateway: its connection, trusted states and auditor.
  struct Backend {
    Backend(ServerOptions o, std::unique_ptr<client::SignatureVerifier> v,
            std::shared_ptr<grpc::Channel> c, std::string state_file);
    const ServerOptions options;
    const std::unique_ptr<client::SignatureVerifier> verifier;  // Null without a key.
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<Stub> stub;
    std::mutex safe_mu;        // Held across each safe call.
    client::StateStore store;  // GUARDED_BY(safe_mu)
    std::unique_ptr<client::Auditor> auditor;
  };

  explicit Gateway(GatewayOptions options);
  Result<std::unique_ptr<Backend>> MakeBackend(ServerOptions server) const;
  const Backend* Find(const std::string& name) const;

  // Every route for `b`, each under `prefix` ("" or "/servers/<name>").
  void AddRoutes(Backend& b, const std::string& prefix);
  void AddPlainRoutes(Backend& b, const std::string& prefix);
  void AddSafeRoutes(Backend& b, const std::string& prefix);
  // A context with the deadline and the caller's credentials.
  std::unique_ptr<grpc::ClientContext> Context(const httplib::Request& req) const;
  std::unique_ptr<grpc::ClientContext> Context(const std::string& token) const;
  // Context(token), or Context(req) when `token` is empty.
  std::unique_ptr<grpc::ClientContext> Context(const httplib::Request& req,
                                               const std::string& token) const;

  // Safe routes (safe_routes.cc): the JSON reply, or the error to send.
  Result<std::string> SafeSet(Backend& b, const httplib::Request& req);
  Result<std::string> SafeGet(Backend& b, const httplib::Request& req);
  Result<std::string> SafeReference(Backend& b, const httplib::Request& req);
  Result<std::string> SafeZAdd(Backend& b, const httplib::Request& req);
  Result<std::string> SafeTx(Backend& b, const httplib::Request& req);
  // The shape of every safe call on `req` (database in its first match):
  // bind the database, take the trusted state, send `q` through `rpc` with
  // proveSinceTx = the trusted tx, `verify` the reply against the trusted
  // state, store the state it yields, and answer with `shown` of the reply
  // plus "verified": true.
  template <class Req, class Resp>
  using VerifiableRpc = grpc::Status (Stub::*)(grpc::ClientContext*, const Req&, Resp*);
  template <class Resp>
  using VerifyFn = std::function<Result<client::State>(const Resp&, const client::State&)>;
  template <class Resp>
  using ShownFn = std::function<const google::protobuf::Message&(const Resp&)>;
  template <class Req, class Resp>
  Result<std::string> Verified(Backend& b, const httplib::Request& req, Req q,
                               VerifiableRpc<Req, Resp> rpc,
                               const std::type_identity_t<VerifyFn<Resp>>& verify,
                               const std::type_identity_t<ShownFn<Resp>>& shown);
  // The caller's token re-bound to `db` (UseDatabase) and the server's uuid.
  Status BindDatabase(Backend& b, const httplib::Request& req, const std::string& db,
                      std::string* token, std::string* uuid);
  // The trusted state of `db`, or the server's current one on first use.
  // REQUIRES: b.safe_mu held.
  Result<client::State> StartingState(Backend& b, const httplib::Request& req,
                                      const std::string& token, const std::string& uuid,
                                      const std::string& db);
  // Checks the reply's server, the signature, and stores `next`.
  Status Commit(Backend& b, const std::string& uuid, const grpc::ClientContext& ctx,
                const client::State& next);

  const GatewayOptions options_;
  std::vector<std::unique_ptr<Backend>> backends_;  // The default server first.

  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  int port_ = -1;
};

}  // namespace immudb::gateway
