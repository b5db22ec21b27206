// Transaction reads: TxById, VerifiableTxById, TxScan, DatabaseHealth.
#include "server/convert.h"
#include "server/errors.h"
#include "server/service.h"

namespace immudb::server {
namespace {

// Renders tx entries per `spec` (nullptr = every entry as a raw TxEntry).
// An EntriesSpec without a sub-spec for a kind excludes that kind.
grpc::Status RenderTx(Database* db, const Tx& tx, const schema::EntriesSpec* spec,
                      schema::Tx* out) {
  if (spec == nullptr) {
    ToProto(tx, out);
    return grpc::Status::OK;
  }
  ToProto(tx.header, out->mutable_header());
  for (const TxEntry& e : tx.entries) {
    const schema::EntryTypeSpec* ts = nullptr;
    const char kind = e.key.empty() ? 0 : e.key[0];
    if (kind == 0x00 && spec->has_kventriesspec()) ts = &spec->kventriesspec();
    if (kind == 0x01 && spec->has_zentriesspec()) ts = &spec->zentriesspec();
    if (kind == 0x02 && spec->has_sqlentriesspec()) ts = &spec->sqlentriesspec();
    const schema::EntryTypeAction action = ts ? ts->action() : schema::EXCLUDE;
    switch (action) {
      case schema::EXCLUDE:
        break;
      case schema::ONLY_DIGEST:
        ToProto(e, out->add_entries());
        break;
      case schema::RAW_VALUE: {
        auto v = db->ReadValue(e);
        if (!v.ok()) return ToGrpcStatus(v.status());
        auto* pe = out->add_entries();
        ToProto(e, pe);
        pe->set_value(*v);
        break;
      }
      default:
        return InvalidArgument("entries spec action RESOLVE is not supported");
    }
  }
  return grpc::Status::OK;
}

}  // namespace

grpc::Status ImmuServiceImpl::DoTxById(grpc::ServerContextBase* ctx, const schema::TxRequest* req,
                                       schema::Tx* resp) {
  auto h = AuthorizeDb(ctx, Access::kRead);
  if (!h.ok()) return ToGrpcStatus(h.status());
  Database* db = (*h)->db.get();
  if (req->tx() == 0) return InvalidArgument(kErrIllegalArguments);
  auto tx = db->TxById(req->tx());
  if (!tx.ok()) return ToGrpcStatus(tx.status());
  return RenderTx(db, *tx, req->has_entriesspec() ? &req->entriesspec() : nullptr, resp);
}

grpc::Status ImmuServiceImpl::DoVerifiableTxById(grpc::ServerContextBase* ctx,
                                                 const schema::VerifiableTxRequest* req,
                                                 schema::VerifiableTx* resp) {
  auto h = AuthorizeDb(ctx, Access::kRead);
  if (!h.ok()) return ToGrpcStatus(h.status());
  Database* db = (*h)->db.get();
  if (req->tx() == 0) return InvalidArgument(kErrIllegalArguments);
  auto v = db->VerifiableTxById(req->tx(), req->provesincetx());
  if (!v.ok()) return ToGrpcStatus(v.status());
  ToProto(v->dual_proof, resp->mutable_dualproof());
  grpc::Status st = RenderTx(db, v->tx, req->has_entriesspec() ? &req->entriesspec() : nullptr,
                             resp->mutable_tx());
  if (!st.ok()) return st;
  return SignVerifiableTx((*h)->name, *v, resp);
}

grpc::Status ImmuServiceImpl::DoTxScan(grpc::ServerContextBase* ctx,
                                       const schema::TxScanRequest* req, schema::TxList* resp) {
  auto h = AuthorizeDb(ctx, Access::kRead);
  if (!h.ok()) return ToGrpcStatus(h.status());
  Database* db = (*h)->db.get();
  if (req->initialtx() == 0) return InvalidArgument(kErrIllegalArguments);
  auto txs = db->TxScan(req->initialtx(), req->limit(), req->desc());
  if (!txs.ok()) return ToGrpcStatus(txs.status());
  for (const Tx& tx : *txs) {
    grpc::Status st =
        RenderTx(db, tx, req->has_entriesspec() ? &req->entriesspec() : nullptr, resp->add_txs());
    if (!st.ok()) return st;
  }
  return grpc::Status::OK;
}

grpc::Status ImmuServiceImpl::DoDatabaseHealth(grpc::ServerContextBase* ctx,
                                               const google::protobuf::Empty*,
                                               schema::DatabaseHealthResponse* resp) {
  auto h = AuthorizeDb(ctx, Access::kReadInfo);
  if (!h.ok()) return ToGrpcStatus(h.status());
  // Other requests in progress on the database: this one holds a DbRef too.
  const uint32_t pending = (*h)->pending_requests.load();
  resp->set_pendingrequests(pending > 0 ? pending - 1 : 0);
  resp->set_lastrequestcompletedat((*h)->last_request_completed_ms.load());
  return grpc::Status::OK;
}

}  // namespace immudb::server
