#include "client/client.h"

#include "client/channel.h"
#include "client/convert.h"
#include "client/tampering.h"
#include "client/verifier.h"

namespace immudb::client {
namespace {

using google::protobuf::Empty;
using Stub = schema::ImmuService::Stub;

std::string StateFileName(const Options& o) {
  std::string name = ".immudb-state-" + o.address + "-" + std::to_string(o.port);
  for (char& c : name) {
    if (c == '/' || c == ':') c = '_';
  }
  return o.state_dir + "/" + name;
}

std::vector<Entry> FromProto(const schema::Entries& entries) {
  std::vector<Entry> out;
  out.reserve(entries.entries_size());
  for (const schema::Entry& e : entries.entries()) out.push_back(client::FromProto(e));
  return out;
}

}  // namespace

Result<std::unique_ptr<Client>> Client::Open(const Options& options) {
  std::unique_ptr<SignatureVerifier> verifier;
  if (!options.server_signing_pub_key.empty()) {
    IMMUDB_ASSIGN_OR_RETURN(verifier, SignatureVerifier::FromFile(options.server_signing_pub_key));
  }
  IMMUDB_ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel, MakeChannel(options));
  return std::unique_ptr<Client>(new Client(options, std::move(channel), std::move(verifier)));
}

Client::Client(const Options& options, std::shared_ptr<grpc::Channel> channel,
               std::unique_ptr<SignatureVerifier> verifier)
    : options_(options),
      channel_(std::move(channel)),
      stub_(schema::ImmuService::NewStub(channel_)),
      verifier_(std::move(verifier)),
      store_(StateFileName(options)) {}

Client::~Client() = default;

std::unique_ptr<grpc::ClientContext> Client::NewContext() const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + options_.timeout);
  if (!token_.empty()) ctx->AddMetadata("authorization", "Bearer " + token_);
  return ctx;
}

Status Client::Finish(const grpc::ClientContext& ctx, const grpc::Status& st) {
  const auto& md = ctx.GetServerInitialMetadata();
  auto it = md.find("immudb-uuid");
  if (it != md.end()) server_uuid_.assign(it->second.data(), it->second.size());
  last_data_loss_ = st.error_code() == grpc::StatusCode::DATA_LOSS;
  if (st.ok()) return Status::OK();
  StatusCode code = static_cast<StatusCode>(st.error_code());
  if (code == StatusCode::kDataLoss) code = StatusCode::kInternal;
  return Status(code, st.error_message());
}

// ---- session ----

Status Client::Login(const std::string& user, const std::string& password, std::string* warning) {
  schema::LoginRequest req;
  req.set_user(user);
  req.set_password(password);
  schema::LoginResponse resp;
  IMMUDB_RETURN_IF_ERROR(Unary(&Stub::Login, req, &resp));
  token_ = resp.token();
  db_ = "defaultdb";
  if (warning != nullptr) *warning = resp.warning();
  return Status::OK();
}

Status Client::Logout() {
  Empty resp;
  IMMUDB_RETURN_IF_ERROR(Unary(&Stub::Logout, Empty(), &resp));
  token_.clear();
  return Status::OK();
}

Status Client::UseDatabase(const std::string& db) {
  schema::Database req;
  req.set_databasename(db);
  schema::UseDatabaseReply resp;
  IMMUDB_RETURN_IF_ERROR(Unary(&Stub::UseDatabase, req, &resp));
  token_ = resp.token();
  db_ = db;
  return Status::OK();
}

void Client::SetSession(std::string token, std::string db) {
  token_ = std::move(token);
  db_ = std::move(db);
}

// ---- plain calls ----

Result<TxHeader> Client::Set(const std::string& key, const std::string& value) {
  schema::SetRequest req;
  schema::KeyValue* kv = req.add_kvs();
  kv->set_key(key);
  kv->set_value(value);
  schema::TxHeader resp;
  IMMUDB_RETURN_IF_ERROR(Unary(&Stub::Set, req, &resp));
  return client::FromProto(resp);
}

Result<Entry> Client::Get(const std::string& key, const ReadOptions& opts) {
  schema::KeyRequest req;
  req.set_key(key);
  ToProto(opts, &req);
  schema::Entry resp;
  IMMUDB_RETURN_IF_ERROR(Unary(&Stub::Get, req, &resp));
  return client::FromProto(resp);
}

Result<TxHeader> Client::SetReference(const std::string& key, const std::string& referenced_key,
                                      uint64_t at_tx) {
  schema::ReferenceRequest req;
  req.set_key(key);
  req.set_referencedkey(referenced_key);
  req.set_attx(at_tx);
  req.set_boundref(at_tx > 0);
  schema::TxHeader resp;
  IMMUDB_RETURN_IF_ERROR(Unary(&Stub::SetReference, req, &resp));
  return client::FromProto(resp);
}

Result<TxHeader> Client::Delete(const std::string& key) {
  schema::DeleteKeysRequest req;
  req.add_keys(key);
  schema::TxHeader resp;
  IMMUDB_RETURN_IF_ERROR(Unary(&Stub::Delete, req, &resp));
  return client::FromProto(resp);
}

Result<TxHeader> Client::ZAdd(const std::string& set, double score, const std::string& key,
                              uint64_t at_tx) {
  schema::ZAddRequest req;
  req.set_set(set);
  req.set_score(score);
  req.set_key(key);
  req.set_attx(at_tx);
  req.set_boundref(at_tx > 0);
  schema::TxHeader resp;
  IMMUDB_RETURN_IF_ERROR(Unary(&Stub::ZAdd, req, &resp));
  return client::FromProto(resp);
}

Result<std::vector<ZEntry>> Client::ZScan(const std::string& set, const ZScanOptions& opts) {
  schema::ZScanRequest req;
  req.set_set(set);
  req.set_limit(opts.limit);
  req.set_desc(opts.desc);
  if (opts.min_score) req.mutable_minscore()->set_score(*opts.min_score);
  if (opts.max_score) req.mutable_maxscore()->set_score(*opts.max_score);
  req.set_sincetx(opts.since_tx);
  req.set_nowait(opts.no_wait);
  schema::ZEntries resp;
  IMMUDB_RETURN_IF_ERROR(Unary(&Stub::ZScan, req, &resp));
  std::vector<ZEntry> out;
  out.reserve(resp.entries_size());
  for (const schema::ZEntry& z : resp.entries()) {
    ZEntry e;
    e.set = z.set();
    e.key = z.key();
    e.score = z.score();
    e.at_tx = z.attx();
    e.entry = client::FromProto(z.entry());
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::vector<Entry>> Client::History(const std::string& key, uint64_t offset, int32_t limit,
                                           bool desc) {
  schema::HistoryRequest req;
  req.set_key(key);
  req.set_offset(offset);
  req.set_limit(limit);
  req.set_desc(desc);
  schema::Entries resp;
  IMMUDB_RETURN_IF_ERROR(Unary(&Stub::History, req, &resp));
  return FromProto(resp);
}

Result<std::vector<Entry>> Client::Scan(const std::string& prefix, uint64_t limit, bool desc) {
  schema::ScanRequest req;
  req.set_prefix(prefix);
  req.set_limit(limit);
  req.set_desc(desc);
  req.set_nowait(true);
  schema::Entries resp;
  IMMUDB_RETURN_IF_ERROR(Unary(&Stub::Scan, req, &resp));
  return FromProto(resp);
}

Result<uint64_t> Client::Count(const std::string& prefix) {
  schema::KeyPrefix req;
  req.set_prefix(prefix);
  schema::EntryCount resp;
  IMMUDB_RETURN_IF_ERROR(Unary(&Stub::Count, req, &resp));
  return resp.count();
}

Result<Tx> Client::TxById(uint64_t tx_id) {
  schema::TxRequest req;
  req.set_tx(tx_id);
  schema::Tx resp;
  IMMUDB_RETURN_IF_ERROR(Unary(&Stub::TxById, req, &resp));
  return client::FromProto(resp);
}

Status Client::Health() {
  schema::HealthResponse resp;
  IMMUDB_RETURN_IF_ERROR(Unary(&Stub::Health, Empty(), &resp));
  if (!resp.status()) return Status::Unavailable("server reports it is not healthy");
  return Status::OK();
}

Result<std::string> Client::ServerVersion() {
  schema::ServerInfoResponse resp;
  IMMUDB_RETURN_IF_ERROR(Unary(&Stub::ServerInfo, schema::ServerInfoRequest(), &resp));
  return resp.version();
}

Result<schema::DatabaseHealthResponse> Client::DatabaseHealth() {
  schema::DatabaseHealthResponse resp;
  IMMUDB_RETURN_IF_ERROR(Unary(&Stub::DatabaseHealth, Empty(), &resp));
  return resp;
}

Result<std::optional<State>> Client::TrustedState() {
  IMMUDB_ASSIGN_OR_RETURN(std::string uuid, Identity());
  return store_.Get(uuid, db_);
}

}  // namespace immudb::client
