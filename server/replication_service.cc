// Replication RPCs: exportTx, streamExportTx and replicateTx move committed
// transactions between databases in immudb's exported form
// (docs/format/exported-tx.md), with their original headers, so the target
// holds the same Alh chain as the source. Admin permission on the database,
// as immudb's; replicateTx only into a database created as a replica.
#include <grpcpp/grpcpp.h>

#include "server/convert.h"
#include "server/errors.h"
#include "server/service.h"
#include "server/stream_framing.h"

namespace immudb::server {
namespace {

// The framed message of one exported tx, the first chunk carrying
// `committed-txid-bin` (the database's last committed tx, 8 bytes BE).
template <class W>
bool SendExported(W* writer, const std::string& bytes, uint64_t committed) {
  bool first = true;
  StreamWriter out([&](const schema::Chunk& c) {
    if (!first) return writer->Write(c);
    first = false;
    schema::Chunk with = c;
    (*with.mutable_metadata())["committed-txid-bin"] = EncodeU64(committed);
    return writer->Write(with);
  });
  return out.Send(bytes);
}

}  // namespace

grpc::Status ImmuServiceImpl::DoexportTx(grpc::ServerContextBase* ctx,
                                         const schema::ExportTxRequest* req,
                                         grpc::ServerWriterInterface<schema::Chunk>* writer) {
  IMMUDB_DB_OR_RETURN(db, Access::kAdmin);
  if (req->tx() == 0) return InvalidArgument(kErrIllegalArguments);
  auto bytes = db->ExportTx(req->tx());
  if (!bytes.ok()) return ToGrpcStatus(bytes.status());
  const uint64_t committed = db->CurrentState().tx_id;
  if (req->has_replicastate()) {
    // Asynchronous replication only: the replica may commit what is committed here.
    const std::string id = EncodeU64(committed);
    auto alh = db->CurrentState().alh;
    ctx->AddTrailingMetadata("may-commit-up-to-txid-bin", id);
    ctx->AddTrailingMetadata("may-commit-up-to-alh-bin",
                             std::string(reinterpret_cast<const char*>(alh.data()), alh.size()));
    ctx->AddTrailingMetadata("committed-txid-bin", id);
  }
  if (!SendExported(writer, *bytes, committed)) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "stream closed by the client");
  }
  return grpc::Status::OK;
}

grpc::Status ImmuServiceImpl::DostreamExportTx(
    grpc::ServerContextBase* ctx,
    grpc::ServerReaderWriterInterface<schema::Chunk, schema::ExportTxRequest>* stream) {
  IMMUDB_DB_OR_RETURN(db, Access::kAdmin);
  schema::ExportTxRequest req;
  while (stream->Read(&req)) {
    if (req.tx() == 0) return InvalidArgument(kErrIllegalArguments);
    auto bytes = db->ExportTx(req.tx());
    if (!bytes.ok()) return ToGrpcStatus(bytes.status());
    if (!SendExported(stream, *bytes, db->CurrentState().tx_id)) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "stream closed by the client");
    }
  }
  return grpc::Status::OK;
}

grpc::Status ImmuServiceImpl::DoreplicateTx(grpc::ServerContextBase* ctx,
                                            grpc::ServerReaderInterface<schema::Chunk>* reader,
                                            schema::TxHeader* resp) {
  IMMUDB_DB_OR_RETURN(db, Access::kAdmin);
  bool no_wait = true;  // immudb waits for the index only when asked.
  const auto& md = ctx->client_metadata();
  auto it = md.find("wait-for-indexing");
  if (it != md.end()) {
    const std::string v(it->second.data(), it->second.size());
    if (v != "true" && v != "false") return InvalidArgument("invalid wait-for-indexing value");
    no_wait = v != "true";
  }
  StreamReader in([reader](schema::Chunk* c) { return reader->Read(c); });
  auto msg = in.Next();
  if (!msg.ok()) return ToGrpcStatus(msg.status());
  if (!msg->has_value()) return InvalidArgument(kErrIllegalArguments);
  auto extra = in.Next();
  if (!extra.ok()) return ToGrpcStatus(extra.status());
  if (extra->has_value()) return InvalidArgument("replicateTx takes one exported transaction");
  auto h = db->ReplicateTx(**msg, no_wait);
  if (!h.ok()) return ToGrpcStatus(h.status());
  ToProto(*h, resp);
  return grpc::Status::OK;
}

}  // namespace immudb::server
