// Client: trusted state handling and the verified calls (proofs.md §6.4, §7).
#include "client/client.h"
#include "client/convert.h"
#include "client/tampering.h"
#include "client/verifier.h"
#include "client/write_verifier.h"
#include "immudb/verify.h"

namespace immudb::client {
namespace {

using google::protobuf::Empty;
using Stub = schema::ImmuService::Stub;

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
  IMMUDB_RETURN_IF_ERROR(Unary(&Stub::CurrentState, Empty(), &resp));
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
  // The server found that its stored data does not match its own hashes
  // (gRPC DATA_LOSS): it cannot prove what was asked, so a verified call
  // reports tampering.
  if (last_data_loss_) {
    return Tampering("the server reports stored data that does not match its hashes: " +
                     failure.message());
  }
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
  // Other processes on the state file wait until the new state is stored.
  IMMUDB_ASSIGN_OR_RETURN(std::unique_ptr<StateStore::Lock> lock, store_.Acquire());
  IMMUDB_ASSIGN_OR_RETURN(State trusted, StartingState(uuid));
  schema::VerifiableSetRequest req;
  schema::KeyValue* kv = req.mutable_setrequest()->add_kvs();
  kv->set_key(key);
  kv->set_value(value);
  req.set_provesincetx(trusted.tx_id);
  schema::VerifiableTx resp;
  Status st = Unary(&Stub::VerifiableSet, req, &resp);
  if (!st.ok()) return ExplainFailure(trusted, std::move(st));
  IMMUDB_RETURN_IF_ERROR(SameServer(uuid, server_uuid_));
  IMMUDB_ASSIGN_OR_RETURN(State next, VerifySetReply(resp, key, value, trusted));
  IMMUDB_RETURN_IF_ERROR(Commit(uuid, next));
  TxHeader header = FromProto(resp.tx().header()).value();  // Checked by VerifySetReply.
  return header;
}

Result<Entry> Client::VerifiedGet(const std::string& key, const ReadOptions& opts) {
  IMMUDB_ASSIGN_OR_RETURN(std::string uuid, Identity());
  // Other processes on the state file wait until the new state is stored.
  IMMUDB_ASSIGN_OR_RETURN(std::unique_ptr<StateStore::Lock> lock, store_.Acquire());
  IMMUDB_ASSIGN_OR_RETURN(State trusted, StartingState(uuid));
  schema::VerifiableGetRequest req;
  req.mutable_keyrequest()->set_key(key);
  ToProto(opts, req.mutable_keyrequest());
  req.set_provesincetx(trusted.tx_id);
  schema::VerifiableEntry resp;
  Status st = Unary(&Stub::VerifiableGet, req, &resp);
  if (!st.ok()) return ExplainFailure(trusted, std::move(st));
  IMMUDB_RETURN_IF_ERROR(SameServer(uuid, server_uuid_));
  IMMUDB_ASSIGN_OR_RETURN(State next, VerifyGetReply(resp, req.keyrequest(), trusted));
  IMMUDB_RETURN_IF_ERROR(Commit(uuid, next));
  return FromProto(resp.entry());
}

Result<Tx> Client::VerifiedTxById(uint64_t tx_id) {
  IMMUDB_ASSIGN_OR_RETURN(std::string uuid, Identity());
  // Other processes on the state file wait until the new state is stored.
  IMMUDB_ASSIGN_OR_RETURN(std::unique_ptr<StateStore::Lock> lock, store_.Acquire());
  IMMUDB_ASSIGN_OR_RETURN(State trusted, StartingState(uuid));
  schema::VerifiableTxRequest req;
  req.set_tx(tx_id);
  req.set_provesincetx(trusted.tx_id);
  schema::VerifiableTx resp;
  Status st = Unary(&Stub::VerifiableTxById, req, &resp);
  if (!st.ok()) return ExplainFailure(trusted, std::move(st));
  IMMUDB_RETURN_IF_ERROR(SameServer(uuid, server_uuid_));
  IMMUDB_ASSIGN_OR_RETURN(State next, VerifyTxReply(resp, tx_id, trusted));
  IMMUDB_RETURN_IF_ERROR(Commit(uuid, next));
  return FromProto(resp.tx());
}

template <class Call, class Verify>
Result<TxHeader> Client::VerifiedWrite(Call call, Verify verify) {
  IMMUDB_ASSIGN_OR_RETURN(std::string uuid, Identity());
  // Other processes on the state file wait until the new state is stored.
  IMMUDB_ASSIGN_OR_RETURN(std::unique_ptr<StateStore::Lock> lock, store_.Acquire());
  IMMUDB_ASSIGN_OR_RETURN(State trusted, StartingState(uuid));
  schema::VerifiableTx resp;
  auto ctx = NewContext();
  Status st = Finish(*ctx, call(ctx.get(), trusted.tx_id, &resp));
  if (!st.ok()) return ExplainFailure(trusted, std::move(st));
  IMMUDB_RETURN_IF_ERROR(SameServer(uuid, server_uuid_));
  IMMUDB_ASSIGN_OR_RETURN(State next, verify(resp, trusted));
  IMMUDB_RETURN_IF_ERROR(Commit(uuid, next));
  TxHeader header = FromProto(resp.tx().header()).value();  // Checked by verify.
  return header;
}

Result<TxHeader> Client::VerifiedSetReference(const std::string& key,
                                              const std::string& referenced_key, uint64_t at_tx) {
  auto call = [&](grpc::ClientContext* ctx, uint64_t since, schema::VerifiableTx* resp) {
    schema::VerifiableReferenceRequest req;
    schema::ReferenceRequest* ref = req.mutable_referencerequest();
    ref->set_key(key);
    ref->set_referencedkey(referenced_key);
    ref->set_attx(at_tx);
    ref->set_boundref(at_tx > 0);
    req.set_provesincetx(since);
    return stub_->VerifiableSetReference(ctx, req, resp);
  };
  auto verify = [&](const schema::VerifiableTx& resp, const State& trusted) {
    return VerifyReferenceReply(resp, key, referenced_key, at_tx, trusted);
  };
  return VerifiedWrite(call, verify);
}

Result<TxHeader> Client::VerifiedZAdd(const std::string& set, double score, const std::string& key,
                                      uint64_t at_tx) {
  auto call = [&](grpc::ClientContext* ctx, uint64_t since, schema::VerifiableTx* resp) {
    schema::VerifiableZAddRequest req;
    schema::ZAddRequest* z = req.mutable_zaddrequest();
    z->set_set(set);
    z->set_score(score);
    z->set_key(key);
    z->set_attx(at_tx);
    z->set_boundref(at_tx > 0);
    req.set_provesincetx(since);
    return stub_->VerifiableZAdd(ctx, req, resp);
  };
  auto verify = [&](const schema::VerifiableTx& resp, const State& trusted) {
    return VerifyZAddReply(resp, set, score, key, at_tx, trusted);
  };
  return VerifiedWrite(call, verify);
}

Result<State> Client::CheckConsistency(uint64_t tx_id, const Hash& alh) {
  if (tx_id == 0) return Status::InvalidArgument("tx id must be positive");
  IMMUDB_ASSIGN_OR_RETURN(State current, CurrentState());
  if (tx_id > current.tx_id) {
    return Status::OutOfRange("tx " + std::to_string(tx_id) + " is beyond the server's tx " +
                              std::to_string(current.tx_id));
  }
  schema::VerifiableTxRequest req;
  req.set_tx(current.tx_id);
  req.set_provesincetx(tx_id);
  req.mutable_entriesspec()->mutable_kventriesspec()->set_action(schema::EXCLUDE);
  schema::VerifiableTx resp;
  IMMUDB_RETURN_IF_ERROR(Unary(&Stub::VerifiableTxById, req, &resp));
  Result<DualProof> dp = FromProto(resp.dualproof());
  if (!dp.ok()) return Tampering("malformed dual proof: " + dp.status().message());
  if (!verify::VerifyDualProof(*dp, tx_id, current.tx_id, alh, current.tx_hash)) {
    return Tampering("tx " + std::to_string(tx_id) +
                     " with the given hash is not on the chain of " + "the server's tx " +
                     std::to_string(current.tx_id));
  }
  return current;
}

}  // namespace immudb::client
