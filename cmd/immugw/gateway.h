// Gateway: immugw, a REST proxy in front of an immudb server that verifies
// on behalf of its clients (docs/immugw.md).
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
// file under GatewayOptions::dir that pins the server's identity.
//
// With `audit`, an Auditor (client/auditor.h) runs in the background and
// GET /metrics shows its metrics.
//
// Thread-safe; requests are served concurrently, safe calls one at a time.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>

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

struct GatewayOptions {
  std::string address = "0.0.0.0";
  int port = 3323;  // 0 picks a free port.
  std::string immudb_address = "127.0.0.1";
  int immudb_port = 3322;
  // Directory of the trusted-state file (and of the auditor's, under auditor/).
  std::string dir = ".";
  // PEM public key of the server's signing key: every state trusted by the
  // safe routes (and the auditor) must carry its signature.
  std::string server_signing_pub_key;
  std::chrono::milliseconds timeout{30000};  // Per gRPC call.
  int max_recv_msg_size = 32 << 20;
  // TLS (and mTLS) to immudb, for the gateway and its auditor alike.
  client::TlsOptions tls;

  bool audit = false;
  // Address, port, key and state_dir are taken from the fields above.
  client::AuditorOptions audit_options;
};

class Gateway {
 public:
  // Loads the public key and creates `dir`: InvalidArgument / IOError.
  static Result<std::unique_ptr<Gateway>> Create(GatewayOptions options);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Listens on address:port and serves in a background thread; starts the
  // auditor with `audit`. Unavailable when the port cannot be bound.
  Status Start();
  // Idempotent.
  void Stop();
  int port() const { return port_; }
  client::Auditor* auditor() { return auditor_.get(); }
  const std::string& state_path() const { return store_.path(); }

 private:
  Gateway(GatewayOptions options, std::unique_ptr<client::SignatureVerifier> verifier,
          std::shared_ptr<grpc::Channel> channel);

  void AddPlainRoutes();
  void AddSafeRoutes();
  // A context with the deadline and the caller's credentials.
  std::unique_ptr<grpc::ClientContext> Context(const httplib::Request& req) const;
  std::unique_ptr<grpc::ClientContext> Context(const std::string& token) const;
  // Context(token), or Context(req) when `token` is empty.
  std::unique_ptr<grpc::ClientContext> Context(const httplib::Request& req,
                                               const std::string& token) const;

  // Safe routes (safe_routes.cc): the JSON reply, or the error to send.
  Result<std::string> SafeSet(const httplib::Request& req);
  Result<std::string> SafeGet(const httplib::Request& req);
  Result<std::string> SafeReference(const httplib::Request& req);
  Result<std::string> SafeZAdd(const httplib::Request& req);
  Result<std::string> SafeTx(const httplib::Request& req);
  // The shape of every safe call on `req` (database in its first match):
  // bind the database, take the trusted state, send `q` through `rpc` with
  // proveSinceTx = the trusted tx, `verify` the reply against the trusted
  // state, store the state it yields, and answer with `shown` of the reply
  // plus "verified": true.
  template <class Req, class Resp>
  using VerifiableRpc = grpc::Status (schema::ImmuService::Stub::*)(grpc::ClientContext*,
                                                                    const Req&, Resp*);
  template <class Resp>
  using VerifyFn = std::function<Result<client::State>(const Resp&, const client::State&)>;
  template <class Resp>
  using ShownFn = std::function<const google::protobuf::Message&(const Resp&)>;
  template <class Req, class Resp>
  Result<std::string> Verified(const httplib::Request& req, Req q, VerifiableRpc<Req, Resp> rpc,
                               const std::type_identity_t<VerifyFn<Resp>>& verify,
                               const std::type_identity_t<ShownFn<Resp>>& shown);
  // The caller's token re-bound to `db` (UseDatabase) and the server's uuid.
  Status BindDatabase(const httplib::Request& req, const std::string& db, std::string* token,
                      std::string* uuid);
  // The trusted state of `db`, or the server's current one on first use.
  // REQUIRES: safe_mu_ held.
  Result<client::State> StartingState(const httplib::Request& req, const std::string& token,
                                      const std::string& uuid, const std::string& db);
  // Checks the reply's server, the signature, and stores `next`.
  Status Commit(const std::string& uuid, const grpc::ClientContext& ctx, const client::State& next);

  const GatewayOptions options_;
  const std::unique_ptr<client::SignatureVerifier> verifier_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<schema::ImmuService::Stub> stub_;

  std::mutex safe_mu_;        // Held across each safe call.
  client::StateStore store_;  // GUARDED_BY(safe_mu_)

  std::unique_ptr<client::Auditor> auditor_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  int port_ = -1;
};

}  // namespace immudb::gateway
