// Key-value, reference and sorted-set handlers over immudb::Database.
#include <set>
#include <string_view>
#include <tuple>

#include "server/convert.h"
#include "server/errors.h"
#include "server/service.h"

namespace immudb::server {
namespace {

using google::protobuf::Empty;

constexpr char kErrDuplicateKeys[] =
    "duplicated keys are not supported in single batch transaction";

// Checks a SetRequest before anything is written.
grpc::Status ValidateSet(const schema::SetRequest& req, std::vector<KeyValue>* kvs) {
  if (req.kvs_size() == 0) return InvalidArgument(kErrIllegalArguments);
  // Few keys (most requests): duplicates found by comparing pairs, no set.
  constexpr int kPairwiseKeys = 8;
  const bool pairwise = req.kvs_size() <= kPairwiseKeys;
  std::set<std::string_view> seen;
  kvs->reserve(static_cast<size_t>(req.kvs_size()));
  for (int i = 0; i < req.kvs_size(); i++) {
    const schema::KeyValue& kv = req.kvs(i);
    if (kv.key().empty()) return InvalidArgument(kErrIllegalArguments);
    bool dup = false;
    if (pairwise) {
      for (int j = 0; j < i && !dup; j++) dup = req.kvs(j).key() == kv.key();
    } else {
      dup = !seen.insert(kv.key()).second;
    }
    if (dup) return InvalidArgument(kErrDuplicateKeys);
    kvs->push_back(FromProto(kv));
  }
  return grpc::Status::OK;
}

grpc::Status ValidateRef(const schema::ReferenceRequest& r) {
  if (r.key().empty() || r.referencedkey().empty() || r.boundref() != (r.attx() > 0)) {
    return InvalidArgument(kErrIllegalArguments);
  }
  return grpc::Status::OK;
}

grpc::Status ValidateZAdd(const schema::ZAddRequest& r) {
  if (r.set().empty() || r.key().empty() || r.boundref() != (r.attx() > 0)) {
    return InvalidArgument(kErrIllegalArguments);
  }
  return grpc::Status::OK;
}

// The request's preconditions, or the error for a malformed one.
grpc::Status Preconditions(const google::protobuf::RepeatedPtrField<schema::Precondition>& in,
                           std::vector<Precondition>* out) {
  auto p = FromProto(in);
  if (!p.ok()) return ToGrpcStatus(p.status());
  *out = std::move(p).value();
  return grpc::Status::OK;
}

void EntriesToProto(const std::vector<Entry>& entries, schema::Entries* out) {
  for (const Entry& e : entries) ToProto(e, out->add_entries());
}

}  // namespace

#define IMMUDB_GRPC_RETURN_IF_ERROR(expr) \
  do {                                    \
    grpc::Status _g = (expr);             \
    if (!_g.ok()) return _g;              \
  } while (0)

grpc::ServerUnaryReactor* ImmuServiceImpl::Set(grpc::CallbackServerContext* ctx,
                                               const schema::SetRequest* req,
                                               schema::TxHeader* resp) {
  IMMUDB_RECORD_CALL(Set);
  if (req->preconditions_size() == 0 && inline_writer_.load(std::memory_order_relaxed)) {
    if (grpc::ServerUnaryReactor* r = TrySetAsync(ctx, req, resp, call)) return r;
  }
  return RunWrite(ctx, [this, ctx, req, resp, call] { return call.End(DoSet(ctx, req, resp)); });
}

grpc::Status ImmuServiceImpl::PrepareSet(grpc::ServerContextBase* ctx,
                                         const schema::SetRequest* req, std::optional<DbRef>* db,
                                         std::vector<KeyValue>* kvs) {
  auto db_r = AuthorizeDb(ctx, Access::kWrite);
  if (!db_r.ok()) return ToGrpcStatus(db_r.status());
  IMMUDB_GRPC_RETURN_IF_ERROR(ValidateSet(*req, kvs));
  db->emplace(std::move(*db_r));
  return grpc::Status::OK;
}

grpc::ServerUnaryReactor* ImmuServiceImpl::TrySetAsync(grpc::CallbackServerContext* ctx,
                                                       const schema::SetRequest* req,
                                                       schema::TxHeader* resp,
                                                       const CallRecord& call) {
  std::optional<DbRef> ref;
  std::vector<KeyValue> kvs;
  grpc::Status valid = PrepareSet(ctx, req, &ref, &kvs);
  if (!valid.ok()) return FinishInline(ctx, [&] { return call.End(valid); });
  Database* db = (*ref)->db.get();
  // The request stays pending on the database until it is answered: the
  // callback drops it before the reply can reach the client (DatabaseHealth's
  // pendingRequests), whatever copies of the callback the engine still holds.
  auto pending = std::make_shared<std::optional<DbRef>>(std::move(ref));
  auto* reactor = new OwnedUnaryReactor();
  const bool started =
      db->TrySetAsync(kvs, req->nowait(), [reactor, resp, pending, call](Result<TxHeader> h) {
        if (h.ok()) ToProto(*h, resp);
        const grpc::Status st = call.End(h.ok() ? grpc::Status::OK : ToGrpcStatus(h.status()));
        pending->reset();
        reactor->Finish(st);
      });
  if (started) return reactor;
  delete reactor;
  return nullptr;
}

void ImmuServiceImpl::QueuedSet(QueuedCall* q, const schema::SetRequest* req,
                                schema::TxHeader* resp) {
  grpc::ServerContextBase* ctx = q->ctx();
  IMMUDB_RECORD_CALL(Set);
  if (req->preconditions_size() == 0 && TrySetAsync(q, req, resp, call)) return;
  RunWrite(q, [this, ctx, req, resp, call] { return call.End(DoSet(ctx, req, resp)); });
}

bool ImmuServiceImpl::TrySetAsync(QueuedCall* q, const schema::SetRequest* req,
                                  schema::TxHeader* resp, const CallRecord& call) {
  std::optional<DbRef> ref;
  std::vector<KeyValue> kvs;
  grpc::Status valid = PrepareSet(q->ctx(), req, &ref, &kvs);
  if (!valid.ok()) {
    q->Finish(call.End(valid));
    return true;
  }
  Database* db = (*ref)->db.get();
  // As above: pending on the database until just before the reply.
  auto pending = std::make_shared<std::optional<DbRef>>(std::move(ref));
  return db->TrySetAsync(kvs, req->nowait(), [q, resp, pending, call](Result<TxHeader> h) {
    if (h.ok()) ToProto(*h, resp);
    const grpc::Status st = call.End(h.ok() ? grpc::Status::OK : ToGrpcStatus(h.status()));
    pending->reset();
    q->Finish(st);
  });
}

grpc::Status ImmuServiceImpl::DoSet(grpc::ServerContextBase* ctx, const schema::SetRequest* req,
                                    schema::TxHeader* resp) {
  IMMUDB_DB_OR_RETURN(db, Access::kWrite);
  std::vector<KeyValue> kvs;
  IMMUDB_GRPC_RETURN_IF_ERROR(ValidateSet(*req, &kvs));
  std::vector<Precondition> pre;
  IMMUDB_GRPC_RETURN_IF_ERROR(Preconditions(req->preconditions(), &pre));
  auto h = db->Set(kvs, req->nowait(), pre);
  if (!h.ok()) return ToGrpcStatus(h.status());
  ToProto(*h, resp);
  return grpc::Status::OK;
}

grpc::Status ImmuServiceImpl::DoVerifiableSet(grpc::ServerContextBase* ctx,
                                              const schema::VerifiableSetRequest* req,
                                              schema::VerifiableTx* resp) {
  IMMUDB_DB_OR_RETURN(db, Access::kWrite);
  std::vector<KeyValue> kvs;
  IMMUDB_GRPC_RETURN_IF_ERROR(ValidateSet(req->setrequest(), &kvs));
  std::vector<Precondition> pre;
  IMMUDB_GRPC_RETURN_IF_ERROR(Preconditions(req->setrequest().preconditions(), &pre));
  auto v = db->VerifiableSet(kvs, req->setrequest().nowait(), req->provesincetx(), pre);
  if (!v.ok()) return ToGrpcStatus(v.status());
  ToProto(*v, resp);
  return SignVerifiableTx((*db_r)->name, *v, resp);
}

grpc::Status ImmuServiceImpl::DoGet(grpc::ServerContextBase* ctx, const schema::KeyRequest* req,
                                    schema::Entry* resp) {
  IMMUDB_DB_OR_RETURN(db, Access::kRead);
  auto e = db->Get(FromProto(*req));
  if (!e.ok()) return ToGrpcStatus(e.status());
  ToProto(*e, resp);
  return grpc::Status::OK;
}

grpc::Status ImmuServiceImpl::DoVerifiableGet(grpc::ServerContextBase* ctx,
                                              const schema::VerifiableGetRequest* req,
                                              schema::VerifiableEntry* resp) {
  IMMUDB_DB_OR_RETURN(db, Access::kRead);
  auto v = db->VerifiableGet(FromProto(req->keyrequest()), req->provesincetx());
  if (!v.ok()) return ToGrpcStatus(v.status());
  ToProto(*v, resp);
  return SignVerifiableTx((*db_r)->name, v->verifiable_tx, resp->mutable_verifiabletx());
}

grpc::Status ImmuServiceImpl::DoGetAll(grpc::ServerContextBase* ctx,
                                       const schema::KeyListRequest* req, schema::Entries* resp) {
  IMMUDB_DB_OR_RETURN(db, Access::kReadAll);
  std::vector<std::string> keys(req->keys().begin(), req->keys().end());
  auto entries = db->GetAll(keys, req->sincetx());
  if (!entries.ok()) return ToGrpcStatus(entries.status());
  EntriesToProto(*entries, resp);
  return grpc::Status::OK;
}

grpc::Status ImmuServiceImpl::DoDelete(grpc::ServerContextBase* ctx,
                                       const schema::DeleteKeysRequest* req,
                                       schema::TxHeader* resp) {
  IMMUDB_DB_OR_RETURN(db, Access::kWrite);
  if (req->keys_size() == 0) return InvalidArgument(kErrIllegalArguments);
  std::vector<std::string> keys(req->keys().begin(), req->keys().end());
  auto h = db->Delete(keys, req->sincetx(), req->nowait());
  if (!h.ok()) return ToGrpcStatus(h.status());
  ToProto(*h, resp);
  return grpc::Status::OK;
}

grpc::Status ImmuServiceImpl::DoExecAll(grpc::ServerContextBase* ctx,
                                        const schema::ExecAllRequest* req, schema::TxHeader* resp) {
  IMMUDB_DB_OR_RETURN(db, Access::kWrite);
  if (req->operations_size() == 0) return InvalidArgument("empty set");
  // As in immudb, a key written twice (plain or reference) or a sorted-set
  // member added twice is refused before any op is looked at further, so
  // two empty references are a duplicate, not an empty key. The database
  // checks the rest: inside ExecAll a bound reference or member may leave
  // atTx 0 (bound to the tx being written).
  std::set<std::string_view> keys;
  std::set<std::tuple<std::string_view, std::string_view, uint64_t>> members;
  const auto duplicate_key = [](std::string_view key) {
    return InvalidArgument(std::string(kErrDuplicateKeys) + ": key/reference '" + std::string(key) +
                           "'");
  };
  std::vector<Op> ops;
  for (const schema::Op& op : req->operations()) {
    switch (op.operation_case()) {
      case schema::Op::kKv:
        if (!keys.insert(op.kv().key()).second) return duplicate_key(op.kv().key());
        ops.emplace_back(FromProto(op.kv()));
        break;
      case schema::Op::kZAdd:
        if (!members.emplace(op.zadd().set(), op.zadd().key(), op.zadd().attx()).second) {
          return InvalidArgument(
              "duplicated index inside zAdd insertions are not supported in single batch "
              "transaction");
        }
        ops.emplace_back(FromProto(op.zadd()));
        break;
      case schema::Op::kRef:
        if (!keys.insert(op.ref().key()).second) return duplicate_key(op.ref().key());
        ops.emplace_back(FromProto(op.ref()));
        break;
      default:
        return InvalidArgument("Op is not set");
    }
  }
  std::vector<Precondition> pre;
  IMMUDB_GRPC_RETURN_IF_ERROR(Preconditions(req->preconditions(), &pre));
  auto h = db->ExecAll(ops, req->nowait(), pre);
  if (!h.ok()) return ToGrpcStatus(h.status());
  ToProto(*h, resp);
  return grpc::Status::OK;
}

grpc::Status ImmuServiceImpl::DoScan(grpc::ServerContextBase* ctx, const schema::ScanRequest* req,
                                     schema::Entries* resp) {
  IMMUDB_DB_OR_RETURN(db, Access::kRead);
  ScanRequest r;
  r.seek_key = req->seekkey();
  r.end_key = req->endkey();
  r.prefix = req->prefix();
  r.desc = req->desc();
  r.limit = req->limit();
  r.since_tx = req->sincetx();
  r.inclusive_seek = req->inclusiveseek();
  r.inclusive_end = req->inclusiveend();
  r.offset = req->offset();
  auto entries = db->Scan(r);
  if (!entries.ok()) return ToGrpcStatus(entries.status());
  EntriesToProto(*entries, resp);
  return grpc::Status::OK;
}

grpc::Status ImmuServiceImpl::DoCount(grpc::ServerContextBase* ctx, const schema::KeyPrefix* req,
                                      schema::EntryCount* resp) {
  IMMUDB_DB_OR_RETURN(db, Access::kRead);
  auto n = db->Count(req->prefix());
  if (!n.ok()) return ToGrpcStatus(n.status());
  resp->set_count(*n);
  return grpc::Status::OK;
}

grpc::Status ImmuServiceImpl::DoCountAll(grpc::ServerContextBase* ctx, const Empty*,
                                         schema::EntryCount* resp) {
  IMMUDB_DB_OR_RETURN(db, Access::kRead);
  auto n = db->CountAll();
  if (!n.ok()) return ToGrpcStatus(n.status());
  resp->set_count(*n);
  return grpc::Status::OK;
}

grpc::Status ImmuServiceImpl::DoHistory(grpc::ServerContextBase* ctx,
                                        const schema::HistoryRequest* req, schema::Entries* resp) {
  IMMUDB_DB_OR_RETURN(db, Access::kRead);
  if (req->key().empty() || req->limit() < 0) return InvalidArgument(kErrIllegalArguments);
  HistoryRequest r;
  r.key = req->key();
  r.offset = req->offset();
  r.limit = static_cast<uint64_t>(req->limit());
  r.desc = req->desc();
  r.since_tx = req->sincetx();
  auto entries = db->History(r);
  if (!entries.ok()) return ToGrpcStatus(entries.status());
  EntriesToProto(*entries, resp);
  return grpc::Status::OK;
}

grpc::Status ImmuServiceImpl::DoSetReference(grpc::ServerContextBase* ctx,
                                             const schema::ReferenceRequest* req,
                                             schema::TxHeader* resp) {
  IMMUDB_DB_OR_RETURN(db, Access::kWrite);
  IMMUDB_GRPC_RETURN_IF_ERROR(ValidateRef(*req));
  ReferenceRequest r = FromProto(*req);
  IMMUDB_GRPC_RETURN_IF_ERROR(Preconditions(req->preconditions(), &r.preconditions));
  auto h = db->SetReference(r);
  if (!h.ok()) return ToGrpcStatus(h.status());
  ToProto(*h, resp);
  return grpc::Status::OK;
}

grpc::Status ImmuServiceImpl::DoVerifiableSetReference(
    grpc::ServerContextBase* ctx, const schema::VerifiableReferenceRequest* req,
    schema::VerifiableTx* resp) {
  IMMUDB_DB_OR_RETURN(db, Access::kWrite);
  IMMUDB_GRPC_RETURN_IF_ERROR(ValidateRef(req->referencerequest()));
  ReferenceRequest r = FromProto(req->referencerequest());
  IMMUDB_GRPC_RETURN_IF_ERROR(
      Preconditions(req->referencerequest().preconditions(), &r.preconditions));
  auto v = db->VerifiableSetReference(r, req->provesincetx());
  if (!v.ok()) return ToGrpcStatus(v.status());
  ToProto(*v, resp);
  return SignVerifiableTx((*db_r)->name, *v, resp);
}

grpc::Status ImmuServiceImpl::DoZAdd(grpc::ServerContextBase* ctx, const schema::ZAddRequest* req,
                                     schema::TxHeader* resp) {
  IMMUDB_DB_OR_RETURN(db, Access::kWrite);
  IMMUDB_GRPC_RETURN_IF_ERROR(ValidateZAdd(*req));
  auto h = db->ZAdd(FromProto(*req));
  if (!h.ok()) return ToGrpcStatus(h.status());
  ToProto(*h, resp);
  return grpc::Status::OK;
}

grpc::Status ImmuServiceImpl::DoVerifiableZAdd(grpc::ServerContextBase* ctx,
                                               const schema::VerifiableZAddRequest* req,
                                               schema::VerifiableTx* resp) {
  IMMUDB_DB_OR_RETURN(db, Access::kWrite);
  IMMUDB_GRPC_RETURN_IF_ERROR(ValidateZAdd(req->zaddrequest()));
  auto v = db->VerifiableZAdd(FromProto(req->zaddrequest()), req->provesincetx());
  if (!v.ok()) return ToGrpcStatus(v.status());
  ToProto(*v, resp);
  return SignVerifiableTx((*db_r)->name, *v, resp);
}

grpc::Status ImmuServiceImpl::DoZScan(grpc::ServerContextBase* ctx, const schema::ZScanRequest* req,
                                      schema::ZEntries* resp) {
  IMMUDB_DB_OR_RETURN(db, Access::kRead);
  if (req->set().empty()) return InvalidArgument(kErrIllegalArguments);
  ZScanRequest r;
  r.set = req->set();
  r.seek_key = req->seekkey();
  r.seek_score = req->seekscore();
  r.seek_at_tx = req->seekattx();
  r.inclusive_seek = req->inclusiveseek();
  r.limit = req->limit();
  r.desc = req->desc();
  if (req->has_minscore()) r.min_score = req->minscore().score();
  if (req->has_maxscore()) r.max_score = req->maxscore().score();
  r.since_tx = req->sincetx();
  r.offset = req->offset();
  auto entries = db->ZScan(r);
  if (!entries.ok()) return ToGrpcStatus(entries.status());
  for (const ZEntry& e : *entries) ToProto(e, resp->add_entries());
  return grpc::Status::OK;
}

}  // namespace immudb::server
