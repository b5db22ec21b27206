// Gateway: the safe routes, which verify the server's proofs for the caller
// (proofs.md §7) before answering.
#include <httplib.h>

#include "client/convert.h"
#include "client/tampering.h"
#include "client/verifier.h"
#include "cmd/immugw/gateway.h"
#include "cmd/immugw/rest_json.h"
#include "immudb/database.h"

namespace immudb::gateway {
namespace {

using client::State;
using client::Tampering;
using google::protobuf::Empty;
using Stub = schema::ImmuService::Stub;

void Reply(httplib::Response& res, const Status& st) {
  grpc::StatusCode code = grpc::StatusCode::INTERNAL;
  if (client::IsTampering(st)) {
    code = grpc::StatusCode::ABORTED;
  } else if (static_cast<int>(st.code()) <= static_cast<int>(grpc::StatusCode::UNAUTHENTICATED)) {
    code = static_cast<grpc::StatusCode>(static_cast<int>(st.code()));
  }
  res.status = HttpStatus(code);
  res.set_content(ErrorBody(code, st.message()), "application/json");
}

Status FromGrpc(const grpc::Status& gs) {
  if (gs.ok()) return Status::OK();
  // The server found that its stored data does not match its own hashes: a
  // verified call cannot be proven, so it is reported as tampering.
  if (gs.error_code() == grpc::StatusCode::DATA_LOSS) {
    return Tampering("the server reports stored data that does not match its hashes: " +
                     gs.error_message());
  }
  return Status(static_cast<StatusCode>(static_cast<int>(gs.error_code())), gs.error_message());
}

std::string UuidOf(const grpc::ClientContext& ctx) {
  const auto& md = ctx.GetServerInitialMetadata();
  auto it = md.find("immudb-uuid");
  return it == md.end() ? std::string() : std::string(it->second.data(), it->second.size());
}

std::string Id(uint64_t tx) { return std::to_string(tx); }

// The reply of a verified one-entry write other than Set: tx `id` newer than
// the trusted state, proven from it, whose only entry is `key` = `value`
// (stored forms).
Result<State> VerifyOneEntryWrite(const schema::VerifiableTx& reply, const std::string& key,
                                  const std::string& value, const State& trusted) {
  const uint64_t id = reply.tx().header().id();
  if (id <= trusted.tx_id) {
    return Tampering("write reply is tx " + Id(id) + ", not newer than trusted tx " +
                     Id(trusted.tx_id));
  }
  if (reply.tx().header().nentries() != 1 || reply.tx().entries_size() != 1) {
    return Tampering("write reply tx " + Id(id) + " does not hold exactly one entry");
  }
  IMMUDB_ASSIGN_OR_RETURN(State next, client::VerifyTxReply(reply, id, trusted));
  const schema::TxEntry& e = reply.tx().entries(0);
  if (e.key() != key) return Tampering("write reply tx " + Id(id) + " holds another key");
  if (e.hvalue() != client::HashBytes(Sha256Of(value))) {
    return Tampering("write reply tx " + Id(id) + " holds another value");
  }
  if (e.has_metadata() && e.metadata().deleted()) {
    return Tampering("write reply entry is marked deleted");
  }
  return next;
}

}  // namespace

Status Gateway::BindDatabase(Backend& b, const httplib::Request& req, const std::string& db,
                             std::string* token, std::string* uuid) {
  // With a session (sessionid) the server binds the session instead and the
  // reply carries no token: later calls then use the caller's credentials.
  schema::Database d;
  d.set_databasename(db);
  schema::UseDatabaseReply r;
  auto ctx = Context(req);
  IMMUDB_RETURN_IF_ERROR(FromGrpc(b.stub->UseDatabase(ctx.get(), d, &r)));
  *token = r.token();
  *uuid = UuidOf(*ctx);
  if (uuid->empty()) return Status::FailedPrecondition("server sent no immudb-uuid header");
  return Status::OK();
}

Result<State> Gateway::StartingState(Backend& b, const httplib::Request& req,
                                     const std::string& token, const std::string& uuid,
                                     const std::string& db) {
  IMMUDB_ASSIGN_OR_RETURN(std::optional<State> trusted, b.store.Get(uuid, db));
  if (trusted) return *trusted;
  // Trust on first use: the server's current state, signature checked.
  schema::ImmutableState resp;
  auto ctx = Context(req, token);
  IMMUDB_RETURN_IF_ERROR(FromGrpc(b.stub->CurrentState(ctx.get(), Empty(), &resp)));
  if (UuidOf(*ctx) != uuid) return Tampering("server identity changed during the call");
  Result<State> parsed = client::FromProto(resp);
  if (!parsed.ok()) return Tampering("malformed state: " + parsed.status().message());
  State state = std::move(parsed).value();
  if (state.db.empty()) state.db = db;
  if (state.db != db) return Tampering("state is for database '" + state.db + "', not " + db);
  if (b.verifier) IMMUDB_RETURN_IF_ERROR(b.verifier->Verify(state));
  return state;
}

Status Gateway::Commit(Backend& b, const std::string& uuid, const grpc::ClientContext& ctx,
                       const State& next) {
  const std::string reply_uuid = UuidOf(ctx);
  if (reply_uuid != uuid) {
    return Tampering("server identity changed from " + uuid + " to " +
                     (reply_uuid.empty() ? std::string("(none)") : reply_uuid));
  }
  if (b.verifier) IMMUDB_RETURN_IF_ERROR(b.verifier->Verify(next));
  return b.store.Put(uuid, next);
}

template <class Req, class Resp>
Result<std::string> Gateway::Verified(Backend& b, const httplib::Request& req, Req q,
                                      VerifiableRpc<Req, Resp> rpc,
                                      const std::type_identity_t<VerifyFn<Resp>>& verify,
                                      const std::type_identity_t<ShownFn<Resp>>& shown) {
  const std::string db = req.matches[1].str();
  std::string token, uuid;
  IMMUDB_RETURN_IF_ERROR(BindDatabase(b, req, db, &token, &uuid));
  std::lock_guard<std::mutex> lock(b.safe_mu);
  IMMUDB_ASSIGN_OR_RETURN(State trusted, StartingState(b, req, token, uuid, db));
  q.set_provesincetx(trusted.tx_id);
  Resp resp;
  auto ctx = Context(req, token);
  IMMUDB_RETURN_IF_ERROR(FromGrpc((b.stub.get()->*rpc)(ctx.get(), q, &resp)));
  IMMUDB_ASSIGN_OR_RETURN(State next, verify(resp, trusted));
  IMMUDB_RETURN_IF_ERROR(Commit(b, uuid, *ctx, next));
  return EncodeReply(shown(resp), /*verified=*/true);
}

namespace {

const google::protobuf::Message& TxHeaderOf(const schema::VerifiableTx& r) {
  return r.tx().header();
}

}  // namespace

Result<std::string> Gateway::SafeSet(Backend& b, const httplib::Request& req) {
  schema::VerifiableSetRequest q;
  IMMUDB_RETURN_IF_ERROR(DecodeRequest(req.body, {}, &q));
  if (q.setrequest().kvs_size() != 1) {
    return Status::InvalidArgument("verified set takes exactly one key-value pair");
  }
  const schema::KeyValue kv = q.setrequest().kvs(0);
  if (kv.key().empty()) return Status::InvalidArgument("illegal arguments: empty key");
  return Verified(
      b, req, q, &Stub::VerifiableSet,
      [&kv](const schema::VerifiableTx& r, const State& trusted) {
        return client::VerifySetReply(r, kv.key(), kv.value(), trusted);
      },
      TxHeaderOf);
}

Result<std::string> Gateway::SafeGet(Backend& b, const httplib::Request& req) {
  schema::VerifiableGetRequest q;
  IMMUDB_RETURN_IF_ERROR(DecodeRequest(req.body, {}, &q));
  if (q.keyrequest().key().empty()) return Status::InvalidArgument("illegal arguments: empty key");
  return Verified(
      b, req, q, &Stub::VerifiableGet,
      [&q](const schema::VerifiableEntry& r, const State& trusted) {
        return client::VerifyGetReply(r, q.keyrequest(), trusted);
      },
      [](const schema::VerifiableEntry& r) -> const google::protobuf::Message& {
        return r.entry();
      });
}

Result<std::string> Gateway::SafeReference(Backend& b, const httplib::Request& req) {
  schema::VerifiableReferenceRequest q;
  IMMUDB_RETURN_IF_ERROR(DecodeRequest(req.body, {}, &q));
  const schema::ReferenceRequest& r = q.referencerequest();
  if (r.key().empty() || r.referencedkey().empty()) {
    return Status::InvalidArgument("illegal arguments: empty key");
  }
  const std::string key = EncodeKey(r.key());
  const std::string value = EncodeReferenceValue(r.referencedkey(), r.attx());
  return Verified(
      b, req, q, &Stub::VerifiableSetReference,
      [&](const schema::VerifiableTx& reply, const State& trusted) {
        return VerifyOneEntryWrite(reply, key, value, trusted);
      },
      TxHeaderOf);
}

Result<std::string> Gateway::SafeZAdd(Backend& b, const httplib::Request& req) {
  schema::VerifiableZAddRequest q;
  IMMUDB_RETURN_IF_ERROR(DecodeRequest(req.body, {}, &q));
  const schema::ZAddRequest& z = q.zaddrequest();
  if (z.set().empty() || z.key().empty()) {
    return Status::InvalidArgument("illegal arguments: empty set or key");
  }
  const std::string key = EncodeZAddKey(z.set(), z.score(), z.key(), z.attx());
  return Verified(
      b, req, q, &Stub::VerifiableZAdd,
      [&key](const schema::VerifiableTx& reply, const State& trusted) {
        return VerifyOneEntryWrite(reply, key, "", trusted);
      },
      TxHeaderOf);
}

Result<std::string> Gateway::SafeTx(Backend& b, const httplib::Request& req) {
  schema::VerifiableTxRequest q;
  IMMUDB_RETURN_IF_ERROR(DecodeRequest("", {{"tx", req.matches[2].str()}}, &q));
  if (q.tx() == 0) return Status::InvalidArgument("illegal arguments: tx id 0");
  const uint64_t id = q.tx();
  return Verified(
      b, req, q, &Stub::VerifiableTxById,
      [id](const schema::VerifiableTx& reply, const State& trusted) {
        return client::VerifyTxReply(reply, id, trusted);
      },
      [](const schema::VerifiableTx& r) -> const google::protobuf::Message& { return r.tx(); });
}

void Gateway::AddSafeRoutes(Backend& b, const std::string& prefix) {
  using Handler = Result<std::string> (Gateway::*)(Backend&, const httplib::Request&);
  auto add = [this, &b, &prefix](bool post, const std::string& op, Handler fn) {
    auto handler = [this, &b, fn](const httplib::Request& req, httplib::Response& res) {
      Result<std::string> body = (this->*fn)(b, req);
      if (!body.ok()) return Reply(res, body.status());
      res.set_content(*body, "application/json");
    };
    for (const std::string& api : {std::string(), std::string("/api")}) {
      const std::string path = prefix + api + "/db/([^/]+)/verified/" + op;
      if (post) {
        http_->Post(path, handler);
      } else {
        http_->Get(path, handler);
      }
    }
  };
  add(true, "set", &Gateway::SafeSet);
  add(true, "get", &Gateway::SafeGet);
  add(true, "setreference", &Gateway::SafeReference);
  add(true, "zadd", &Gateway::SafeZAdd);
  add(false, "tx/([0-9]+)", &Gateway::SafeTx);
}

}  // namespace immudb::gateway
