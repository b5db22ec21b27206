// The stream* RPCs (wire-api.md §1.4). Each one checks the caller, then
// reads or writes framed messages and runs the matching unary handler, so
// validation, limits and errors are the unary ones. Unknown sessions are
// reported as on immudb's streams: INVALID_ARGUMENT "no session found".
#include "server/errors.h"
#include "server/service.h"
#include "server/stream_framing.h"

namespace immudb::server {
namespace {

constexpr char kErrTxValuesTooLong[] = "max tx values length exceeded";
constexpr char kErrOddKeyValues[] = "stream ended after a key without its value";

constexpr uint8_t kOpKeyValue = 0x01;
constexpr uint8_t kOpZAdd = 0x02;
constexpr uint8_t kOpReference = 0x04;

StreamWriter WriterFor(grpc::ServerWriterInterface<schema::Chunk>* w) {
  return StreamWriter([w](const schema::Chunk& c) { return w->Write(c); });
}

StreamReader ReaderFor(grpc::ServerReaderInterface<schema::Chunk>* r) {
  return StreamReader([r](schema::Chunk* c) { return r->Read(c); });
}

grpc::Status Broken() { return GrpcError(grpc::StatusCode::CANCELLED, "stream closed by client"); }

// Reads [key][value] pairs until the end of the stream into `req`.
grpc::Status ReadKeyValues(StreamReader* in, schema::SetRequest* req) {
  uint64_t value_bytes = 0;
  for (;;) {
    auto key = in->Next();
    if (!key.ok()) return ToGrpcStatus(key.status());
    if (!key->has_value()) return grpc::Status::OK;
    auto value = in->Next(kMaxStreamMessageLen - value_bytes);
    if (!value.ok()) {
      return value.status().message() == kErrStreamMessageTooLong ? Unknown(kErrTxValuesTooLong)
                                                                  : ToGrpcStatus(value.status());
    }
    if (!value->has_value()) return InvalidArgument(kErrOddKeyValues);
    value_bytes += (*value)->size();
    auto* kv = req->add_kvs();
    kv->set_key(std::move(**key));
    kv->set_value(std::move(**value));
  }
}

}  // namespace

grpc::Status ImmuServiceImpl::DostreamGet(grpc::ServerContextBase* ctx,
                                          const schema::KeyRequest* req,
                                          grpc::ServerWriterInterface<schema::Chunk>* writer) {
  schema::Entry e;
  grpc::Status st = DoGet(ctx, req, &e);
  if (!st.ok()) return ForStream(st);
  StreamWriter out = WriterFor(writer);
  if (!out.Send(e.key()) || !out.Send(e.value())) return Broken();
  return grpc::Status::OK;
}

grpc::Status ImmuServiceImpl::DostreamSet(grpc::ServerContextBase* ctx,
                                          grpc::ServerReaderInterface<schema::Chunk>* reader,
                                          schema::TxHeader* resp) {
  auto db = AuthorizeDb(ctx, Access::kWrite);
  if (!db.ok()) return ForStream(ToGrpcStatus(db.status()));
  StreamReader in = ReaderFor(reader);
  schema::SetRequest req;
  grpc::Status st = ReadKeyValues(&in, &req);
  if (!st.ok()) return st;
  return ForStream(DoSet(ctx, &req, resp));
}

grpc::Status ImmuServiceImpl::DostreamVerifiableGet(
    grpc::ServerContextBase* ctx, const schema::VerifiableGetRequest* req,
    grpc::ServerWriterInterface<schema::Chunk>* writer) {
  schema::VerifiableEntry ve;
  grpc::Status st = DoVerifiableGet(ctx, req, &ve);
  if (!st.ok()) return ForStream(st);
  const std::string value = ve.entry().value();
  ve.mutable_entry()->clear_value();
  StreamWriter out = WriterFor(writer);
  if (!out.Send(ve.entry().SerializeAsString()) ||
      !out.Send(ve.verifiabletx().SerializeAsString()) ||
      !out.Send(ve.inclusionproof().SerializeAsString()) || !out.Send(value)) {
    return Broken();
  }
  return grpc::Status::OK;
}

grpc::Status ImmuServiceImpl::DostreamVerifiableSet(
    grpc::ServerContextBase* ctx, grpc::ServerReaderInterface<schema::Chunk>* reader,
    schema::VerifiableTx* resp) {
  auto db = AuthorizeDb(ctx, Access::kWrite);
  if (!db.ok()) return ForStream(ToGrpcStatus(db.status()));
  StreamReader in = ReaderFor(reader);
  auto since = in.Next(8);
  if (!since.ok()) return ToGrpcStatus(since.status());
  if (!since->has_value()) return InvalidArgument(kErrIllegalArguments);
  auto prove_since = DecodeU64(**since);
  if (!prove_since.ok()) return ToGrpcStatus(prove_since.status());
  schema::VerifiableSetRequest req;
  req.set_provesincetx(*prove_since);
  grpc::Status st = ReadKeyValues(&in, req.mutable_setrequest());
  if (!st.ok()) return st;
  return ForStream(DoVerifiableSet(ctx, &req, resp));
}

grpc::Status ImmuServiceImpl::DostreamScan(grpc::ServerContextBase* ctx,
                                           const schema::ScanRequest* req,
                                           grpc::ServerWriterInterface<schema::Chunk>* writer) {
  schema::Entries entries;
  grpc::Status st = DoScan(ctx, req, &entries);
  if (!st.ok()) return ForStream(st);
  StreamWriter out = WriterFor(writer);
  for (const schema::Entry& e : entries.entries()) {
    if (!out.Send(e.key()) || !out.Send(e.value())) return Broken();
  }
  return grpc::Status::OK;
}

grpc::Status ImmuServiceImpl::DostreamHistory(grpc::ServerContextBase* ctx,
                                              const schema::HistoryRequest* req,
                                              grpc::ServerWriterInterface<schema::Chunk>* writer) {
  schema::Entries entries;
  grpc::Status st = DoHistory(ctx, req, &entries);
  if (!st.ok()) return ForStream(st);
  StreamWriter out = WriterFor(writer);
  for (const schema::Entry& e : entries.entries()) {
    if (!out.Send(e.key()) || !out.Send(e.value())) return Broken();
  }
  return grpc::Status::OK;
}

grpc::Status ImmuServiceImpl::DostreamZScan(grpc::ServerContextBase* ctx,
                                            const schema::ZScanRequest* req,
                                            grpc::ServerWriterInterface<schema::Chunk>* writer) {
  schema::ZEntries entries;
  grpc::Status st = DoZScan(ctx, req, &entries);
  if (!st.ok()) return ForStream(st);
  StreamWriter out = WriterFor(writer);
  for (const schema::ZEntry& e : entries.entries()) {
    if (!out.Send(e.set()) || !out.Send(e.key()) || !out.Send(EncodeF64(e.score())) ||
        !out.Send(EncodeU64(e.attx())) || !out.Send(e.entry().value())) {
      return Broken();
    }
  }
  return grpc::Status::OK;
}

grpc::Status ImmuServiceImpl::DostreamExecAll(grpc::ServerContextBase* ctx,
                                              grpc::ServerReaderInterface<schema::Chunk>* reader,
                                              schema::TxHeader* resp) {
  auto db = AuthorizeDb(ctx, Access::kWrite);
  if (!db.ok()) return ForStream(ToGrpcStatus(db.status()));
  StreamReader in = ReaderFor(reader);
  schema::ExecAllRequest req;
  uint64_t value_bytes = 0;
  for (;;) {
    auto type = in.Next(1);
    if (!type.ok()) return ToGrpcStatus(type.status());
    if (!type->has_value()) break;
    if ((*type)->size() != 1) return InvalidArgument("unknown stream operation type");
    const uint8_t op = static_cast<uint8_t>((**type)[0]);
    if (op == kOpReference)
      return Unimplemented("reference operations are not supported in streams");
    if (op == kOpZAdd) {
      auto msg = in.Next();
      if (!msg.ok()) return ToGrpcStatus(msg.status());
      if (!msg->has_value() || !req.add_operations()->mutable_zadd()->ParseFromString(**msg)) {
        return InvalidArgument("malformed ZAddRequest in stream");
      }
      continue;
    }
    if (op != kOpKeyValue) return InvalidArgument("unknown stream operation type");
    auto key = in.Next();
    if (!key.ok()) return ToGrpcStatus(key.status());
    auto value = key->has_value() ? in.Next(kMaxStreamMessageLen - value_bytes) : key;
    if (!value.ok()) {
      return value.status().message() == kErrStreamMessageTooLong ? Unknown(kErrTxValuesTooLong)
                                                                  : ToGrpcStatus(value.status());
    }
    if (!key->has_value() || !value->has_value()) return InvalidArgument(kErrOddKeyValues);
    value_bytes += (*value)->size();
    auto* kv = req.add_operations()->mutable_kv();
    kv->set_key(std::move(**key));
    kv->set_value(std::move(**value));
  }
  return ForStream(DoExecAll(ctx, &req, resp));
}

}  // namespace immudb::server
