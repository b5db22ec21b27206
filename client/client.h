// Client: a verifying immudb v1 client over gRPC (ImmuService, schema.proto).
//
// Logs in with a token (sent as "authorization: Bearer <token>"), reads the
// server identity from the `immudb-uuid` header of every reply, and offers
// plain calls (Set, Get, Delete, SetReference, ZAdd, ZScan, History, Scan,
// Count, TxById, CurrentState) and verified ones (VerifiedSet, VerifiedGet,
// VerifiedSetReference, VerifiedZAdd, VerifiedTxById) that check the server's
// proofs against a trusted state before returning, as proofs.md §7 describes.
// The channel is plain TCP or, with Options::tls, TLS (mTLS when a client
// certificate is given). Trusted states live in a StateStore file (state_store.h) named
// after the server address, under Options::state_dir.
//
// Errors: gRPC failures become a Status with the same code and the server's
// message (DATA_LOSS becomes kInternal); a reply that fails verification is a
// tampering error (tampering.h) and leaves the trusted state unchanged.
//
// Not thread-safe: use one Client per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/signature.h"
#include "client/state_store.h"
#include "client/types.h"
#include "immudb/result.h"
#include "immudb/tx.h"
#include "schema.grpc.pb.h"

namespace immudb::client {

// TLS settings. Paths name PEM files that Client::Open reads.
struct TlsOptions {
  bool enabled = false;
  // CA certificates that sign the server's certificate ("" = system roots).
  std::string ca_cert;
  // Client certificate and its private key, for servers that require client
  // certificates (mTLS). Both or neither.
  std::string client_cert;
  std::string client_key;
  // The name the server's certificate must carry ("" = the address).
  std::string server_name;
};

struct Options {
  std::string address = "127.0.0.1";
  int port = 3322;
  TlsOptions tls;
  // Directory of the trusted-state file ".immudb-state-<address>-<port>".
  std::string state_dir = ".";
  // PEM public key of the server's state signing key. When set, every state
  // the client trusts must carry a valid signature.
  std::string server_signing_pub_key;
  int max_recv_msg_size = 4 << 20;
  std::chrono::milliseconds timeout{30000};  // Per call.
};

class Client {
 public:
  // Creates the channel (connections are made lazily), reading the TLS files
  // and the public key when configured: InvalidArgument for an incomplete TLS
  // setting or an unusable key, IOError for a file that cannot be read.
  static Result<std::unique_ptr<Client>> Open(const Options& options);
  ~Client();

  // ---- session ----
  // Logs in; `warning` (optional) receives the server's warning text.
  Status Login(const std::string& user, const std::string& password,
               std::string* warning = nullptr);
  Status Logout();
  // Selects `db` and switches to the token the server returns.
  Status UseDatabase(const std::string& db);
  // Resumes a session saved earlier (token() and database()).
  void SetSession(std::string token, std::string db);
  const std::string& token() const { return token_; }
  const std::string& database() const { return db_; }
  // The immudb-uuid of the last reply that carried one ("" before any).
  const std::string& server_uuid() const { return server_uuid_; }
  const std::string& state_path() const { return store_.path(); }

  // ---- plain calls (nothing verified) ----
  Result<TxHeader> Set(const std::string& key, const std::string& value);
  Result<Entry> Get(const std::string& key, const ReadOptions& opts = {});
  // Makes `key` refer to `referenced_key` (at tx `at_tx` when non-zero).
  Result<TxHeader> SetReference(const std::string& key, const std::string& referenced_key,
                                uint64_t at_tx = 0);
  // Marks `key` deleted (a new tx whose entry has the deleted attribute).
  // NotFound when the key has no live value.
  Result<TxHeader> Delete(const std::string& key);
  // Adds `key` to sorted set `set` with `score` (bound to the key's value at
  // tx `at_tx` when non-zero).
  Result<TxHeader> ZAdd(const std::string& set, double score, const std::string& key,
                        uint64_t at_tx = 0);
  Result<std::vector<ZEntry>> ZScan(const std::string& set, const ZScanOptions& opts = {});
  Result<std::vector<Entry>> History(const std::string& key, uint64_t offset = 0, int32_t limit = 0,
                                     bool desc = false);
  Result<std::vector<Entry>> Scan(const std::string& prefix, uint64_t limit = 0, bool desc = false);
  Result<uint64_t> Count(const std::string& prefix);
  Result<Tx> TxById(uint64_t tx_id);
  // Server health: OK when the server answers and says it is healthy.
  Status Health();
  // The server's version string (ServerInfo).
  Result<std::string> ServerVersion();
  // DatabaseHealth of the selected database.
  Result<schema::DatabaseHealthResponse> DatabaseHealth();

  // The server's current state of the selected database. Its signature is
  // checked when a public key is configured, and it must not be behind (or
  // fork at the tx of) the trusted state: both are tampering. Does not change
  // the trusted state.
  Result<State> CurrentState();

  // ---- verified calls ----
  // Each takes the trusted state of the selected database (the server's
  // CurrentState on first use, after its signature check), sends its tx id as
  // proveSinceTx, verifies the reply and only then stores the new state.
  Result<TxHeader> VerifiedSet(const std::string& key, const std::string& value);
  Result<Entry> VerifiedGet(const std::string& key, const ReadOptions& opts = {});
  Result<Tx> VerifiedTxById(uint64_t tx_id);
  // SetReference / ZAdd whose one-entry tx is checked to hold exactly the
  // reference (proofs.md §7.4) or sorted-set member (§7.5) that was asked for.
  Result<TxHeader> VerifiedSetReference(const std::string& key, const std::string& referenced_key,
                                        uint64_t at_tx = 0);
  Result<TxHeader> VerifiedZAdd(const std::string& set, double score, const std::string& key,
                                uint64_t at_tx = 0);
  // Checks that tx `tx_id` with Alh `alh` is on the chain of the server's
  // current state (a dual proof between the two); returns that current state.
  // Tampering when it is not; the trusted state is neither used nor changed.
  Result<State> CheckConsistency(uint64_t tx_id, const Hash& alh);

  // The locally trusted state of the selected database (nullopt when none).
  Result<std::optional<State>> TrustedState();

  // ---- raw access, for calls written outside this class (admin, audit) ----
  schema::ImmuService::Stub& stub() { return *stub_; }
  // A context carrying the session's authorization header.
  std::unique_ptr<grpc::ClientContext> NewContext() const;
  // Converts the call's status and records the reply's immudb-uuid.
  Status Finish(const grpc::ClientContext& ctx, const grpc::Status& st);
  // Runs one unary RPC (a member of the stub, e.g. &Stub::Get) in a fresh
  // context; the reply lands in *resp and the result is Finish's status.
  template <class Req, class Resp>
  Status Unary(grpc::Status (schema::ImmuService::Stub::*method)(grpc::ClientContext*, const Req&,
                                                                 Resp*),
               const Req& req, Resp* resp) {
    auto ctx = NewContext();
    return Finish(*ctx, ((*stub_).*method)(ctx.get(), req, resp));
  }

 private:
  Client(const Options& options, std::shared_ptr<grpc::Channel> channel,
         std::unique_ptr<SignatureVerifier> verifier);
  // The server identity, asking the server (Health) when not known yet.
  Result<std::string> Identity();
  // The trusted state, or the server's current one on first use.
  Result<State> StartingState(const std::string& uuid);
  // Checks the reply came from `uuid`, checks the signature, stores `next`.
  Status Commit(const std::string& uuid, const State& next);
  // Runs a verified one-entry write: `call` sends the request with the given
  // proveSinceTx; `verify` checks the reply against the trusted state.
  template <class Call, class Verify>
  Result<TxHeader> VerifiedWrite(Call call, Verify verify);
  // After a failed verified call: tampering if the server's state went
  // behind `trusted`, else `failure` unchanged.
  Status ExplainFailure(const State& trusted, Status failure);

  Options options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<schema::ImmuService::Stub> stub_;
  std::unique_ptr<SignatureVerifier> verifier_;
  StateStore store_;
  std::string token_;
  std::string db_ = "defaultdb";
  std::string server_uuid_;
  bool last_data_loss_ = false;  // The last reply was gRPC DATA_LOSS (see ExplainFailure).
};

}  // namespace immudb::client
