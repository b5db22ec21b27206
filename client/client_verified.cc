// Client: trusted state handling and the verified calls (proofs.md §6.4, §7).
#include "client/client.h"
#include "client/convert.h"
#include "client/tampering.h"
#include "client/verifier.h"

namespace immudb::client {
namespace {

using google::protobuf::Empty;

}  // namespace

Result<std::string> Client::Identity() {
  if (server_uuid_.empty()) IMMUDB_RETURN_IF_ERROR(Health());
  if (server_uuid_.empty()) {
    return Status::FailedPrecondition("server sent no immudb-uuid header");
  }
  return server_uuid_;
}

Result<State> Client::CurrentState() {
  schema::ImmutableState resp;
  auto ctx = NewContext();
  IMMUDB_RETURN_IF_ERROR(Finish(*ctx, stub_->CurrentState(ctx.get(), Empty(), &resp)));
  Result<State> parsed = FromProto(resp);
  if (!parsed.ok()) return Tampering("malformed state: " + parsed.status().message());
  State state = std::move(parsed).value();
  if (state.db != db_) return Tampering("state is for database '" + state.db + "', not " + db_);
  IMMUDB_ASSIGN_OR_RETURN(std::string uuid, Identity());
  if (verifier_) IMMUDB_RETURN_IF_ERROR(verifier_->Verify(state));
  IMMUDB_ASSIGN_OR_RETURN(std::optional<State> trusted, store_.Get(uuid, db_));
  if (trusted) {
    if (state.tx_id < trusted->tx_id) {
      return Tampering("server state of " + db_ + " went backwards: tx " +
                       std::to_string(state.tx_id) + " is behind trusted tx " +
                       std::to_string(trusted->tx_id));
    }
    if (state.tx_id == trusted->tx_id && state.tx_hash != trusted->tx_hash) {
      return Tampering("server state of " + db_ + " at tx " + std::to_string(state.tx_id) +
                       " differs from the trusted one");
    }
  }
  return state;
}

Result<State> Client::StartingState(const std::string& uuid) {
  IMMUDB_ASSIGN_OR_RETURN(std::optional<State> trusted, store_.Get(uuid, db_));
  if (trusted) return *trusted;
  // Trust on first use: the server's current state, signature checked.
  IMMUDB_ASSIGN_OR_RETURN(State current, CurrentState());
  if (server_uuid_ != uuid) {
    return Tampering("server identity changed from " + uuid + " to " + server_uuid_);
  }
  return current;
}

Status Client::Commit(const std::string& uuid, const State& next) {
  if (verifier_) IMMUDB_RETURN_IF_ERROR(verifier_->Verify(next));
  return store_.Put(uuid, next);
}

Status Client::ExplainFailure(const State& trusted, Status failure) {
  if (trusted.tx_id == 0) return failure;
  Result<State> current = CurrentState();
  if (!current.ok() && IsTampering(current.status())) return current.status();
  return failure;
}

namespace {

// The reply of a verified call must come from the server the trusted state
// belongs to.
Status SameServer(const std::string& trusted_uuid, const std::string& reply_uuid) {
  if (reply_uuid != trusted_uuid) {
    return Tampering("server identity changed from " + trusted_uuid + " to " +
                     (reply_uuid.empty() ? std::string("(none)") : reply_uuid));
  }
  return Status::OK();
}

}  // namespace

Result<TxHeader> Client::VerifiedSet(const std::string& key, const std::string& value) {
  IMMUDB_ASSIGN_OR_RETURN(std::string uuid, Identity());
  IMMUDB_ASSIGN_OR_RETURN(State trusted, StartingState(uuid));
  schema::VerifiableSetRequest req;
  schema::KeyValue* kv = req.mutable_setrequest()->add_kvs();
  kv->set_key(key);
  kv->set_value(value);
  req.set_provesincetx(trusted.tx_id);
  schema::VerifiableTx resp;
  auto ctx = NewContext();
  Status st = Finish(*ctx, stub_->VerifiableSet(ctx.get(), req, &resp));
  if (!st.ok()) return ExplainFailure(trusted, std::move(st));
  IMMUDB_RETURN_IF_ERROR(SameServer(uuid, server_uuid_));
  IMMUDB_ASSIGN_OR_RETURN(State next, VerifySetReply(resp, key, value, trusted));
  IMMUDB_RETURN_IF_ERROR(Commit(uuid, next));
  TxHeader header = FromProto(resp.tx().header()).value();  // Checked by VerifySetReply.
  return header;
}

Result<Entry> Client::VerifiedGet(const std::string& key, const ReadOptions& opts) {
  IMMUDB_ASSIGN_OR_RETURN(std::string uuid, Identity());
  IMMUDB_ASSIGN_OR_RETURN(State trusted, StartingState(uuid));
  schema::VerifiableGetRequest req;
  req.mutable_keyrequest()->set_key(key);
  ToProto(opts, req.mutable_keyrequest());
  req.set_provesincetx(trusted.tx_id);
  schema::VerifiableEntry resp;
  auto ctx = NewContext();
  Status st = Finish(*ctx, stub_->VerifiableGet(ctx.get(), req, &resp));
  if (!st.ok()) return ExplainFailure(trusted, std::move(st));
  IMMUDB_RETURN_IF_ERROR(SameServer(uuid, server_uuid_));
  IMMUDB_ASSIGN_OR_RETURN(State next, VerifyGetReply(resp, req.keyrequest(), trusted));
  IMMUDB_RETURN_IF_ERROR(Commit(uuid, next));
  return FromProto(resp.entry());
}

Result<Tx> Client::VerifiedTxById(uint64_t tx_id) {
  IMMUDB_ASSIGN_OR_RETURN(std::string uuid, Identity());
  IMMUDB_ASSIGN_OR_RETURN(State trusted, StartingState(uuid));
  schema::VerifiableTxRequest req;
  req.set_tx(tx_id);
  req.set_provesincetx(trusted.tx_id);
  schema::VerifiableTx resp;
  auto ctx = NewContext();
  Status st = Finish(*ctx, stub_->VerifiableTxById(ctx.get(), req, &resp));
  if (!st.ok()) return ExplainFailure(trusted, std::move(st));
  IMMUDB_RETURN_IF_ERROR(SameServer(uuid, server_uuid_));
  IMMUDB_ASSIGN_OR_RETURN(State next, VerifyTxReply(resp, tx_id, trusted));
  IMMUDB_RETURN_IF_ERROR(Commit(uuid, next));
  return FromProto(resp.tx());
}

}  // namespace immudb::client
