// Database administration, health, server info and state (wire-api.md §5.3).
#include <algorithm>
#include <cctype>

#include "server/errors.h"
#include "server/metrics.h"
#include "server/service.h"

namespace immudb::server {
namespace {

using google::protobuf::Empty;

}  // namespace

grpc::Status ImmuServiceImpl::CreateDatabase(grpc::ServerContext* ctx, const schema::Database* req,
                                             Empty*) {
  schema::CreateDatabaseRequest v2;
  v2.set_name(req->databasename());
  schema::CreateDatabaseResponse ignored;
  return CreateDatabaseV2(ctx, &v2, &ignored);
}

grpc::Status ImmuServiceImpl::CreateDatabaseV2(grpc::ServerContext* ctx,
                                               const schema::CreateDatabaseRequest* req,
                                               schema::CreateDatabaseResponse* resp) {
  if (!s_->config.auth) return Unknown("this command is available only with authentication on");
  auto caller = Authenticate(ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (!caller->user.IsSysAdmin()) return Unknown(kErrNoDbPermission);
  std::string name = req->name();
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (name == kSystemDb || name == kDefaultDb) return Internal(kErrDbReserved);
  Status valid = ValidateDbName(name);
  if (!valid.ok()) return Unknown(valid.message());
  resp->set_name(name);
  if (s_->dbs->Exists(name)) {
    if (!req->ifnotexists()) return Unknown(kErrDbExists);
    resp->set_alreadyexisted(true);
    return grpc::Status::OK;
  }
  auto db = s_->dbs->Create(name);
  if (!db.ok()) {
    return db.status().code() == StatusCode::kAlreadyExists ? Unknown(kErrDbExists)
                                                            : ToGrpcStatus(db.status());
  }
  s_->multi_db = true;
  return grpc::Status::OK;
}

grpc::Status ImmuServiceImpl::DatabaseList(grpc::ServerContext* ctx, const Empty*,
                                           schema::DatabaseListResponse* resp) {
  auto caller = Authenticate(ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  for (const std::string& name : s_->dbs->Names()) {
    if (caller->user.PermissionOn(name) == kPermNone) continue;
    resp->add_databases()->set_databasename(name);
  }
  return grpc::Status::OK;
}

grpc::Status ImmuServiceImpl::DatabaseListV2(grpc::ServerContext* ctx,
                                             const schema::DatabaseListRequestV2*,
                                             schema::DatabaseListResponseV2* resp) {
  auto caller = Authenticate(ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  for (const std::string& name : s_->dbs->Names()) {
    if (caller->user.PermissionOn(name) == kPermNone) continue;
    auto db = s_->dbs->Get(name);
    if (!db.ok()) continue;
    auto* info = resp->add_databases();
    info->set_name(name);
    info->set_loaded(true);
    info->set_numtransactions((*db)->db->CurrentState().tx_id);
    info->set_disksize(DirSize(s_->config.dir + "/" + name));
  }
  return grpc::Status::OK;
}

grpc::Status ImmuServiceImpl::UseDatabase(grpc::ServerContext* ctx, const schema::Database* req,
                                          schema::UseDatabaseReply* resp) {
  if (!s_->config.auth && !s_->config.maintenance) {
    return Unknown("this command is available only with authentication on");
  }
  auto caller = Authenticate(ctx);
  if (!caller.ok()) {
    if (caller.status().code() == StatusCode::kPermissionDenied) {
      return ToGrpcStatus(caller.status());
    }
    return GrpcError(grpc::StatusCode::UNAUTHENTICATED, "Please login");
  }
  const std::string& name = req->databasename();
  if (!s_->dbs->Exists(name)) return NotFound("'" + name + "' does not exist");
  if (caller->user.PermissionOn(name) == kPermNone) {
    return PermissionDenied("Logged in user does not have permission on this database");
  }
  if (!caller->session_id.empty()) s_->sessions->SetDatabase(caller->session_id, name);
  resp->set_token(s_->tokens->Reissue(caller->user.username, name));
  return grpc::Status::OK;
}

grpc::Status ImmuServiceImpl::Health(grpc::ServerContext*, const Empty*,
                                     schema::HealthResponse* resp) {
  resp->set_status(true);
  resp->set_version(IMMUDB_VERSION);
  return grpc::Status::OK;
}

grpc::Status ImmuServiceImpl::ServerInfo(grpc::ServerContext*, const schema::ServerInfoRequest*,
                                         schema::ServerInfoResponse* resp) {
  resp->set_version(IMMUDB_VERSION);
  resp->set_startedat(s_->started_at);
  int64_t txs = 0;
  int64_t size = 0;
  const auto names = s_->dbs->Names();
  for (const std::string& name : names) {
    auto db = s_->dbs->Get(name);
    if (!db.ok()) continue;
    txs += static_cast<int64_t>((*db)->db->CurrentState().tx_id);
    size += static_cast<int64_t>(DirSize(s_->config.dir + "/" + name));
  }
  resp->set_numtransactions(txs);
  resp->set_numdatabases(static_cast<int32_t>(names.size()));
  resp->set_databasesdisksize(size);
  return grpc::Status::OK;
}

grpc::Status ImmuServiceImpl::CurrentState(grpc::ServerContext* ctx, const Empty*,
                                           schema::ImmutableState* resp) {
  auto db = AuthorizeDb(ctx, Access::kRead);
  if (!db.ok()) return ToGrpcStatus(db.status());
  const StoreState st = (*db)->db->CurrentState();
  resp->set_db((*db)->name);
  resp->set_txid(st.tx_id);
  resp->set_txhash(st.alh.data(), st.alh.size());
  resp->set_precommittedtxid(st.tx_id);
  resp->set_precommittedtxhash(st.alh.data(), st.alh.size());
  if (!s_->signer) return grpc::Status::OK;  // No signature field without a key.
  return SignState((*db)->name, st.tx_id, st.alh, resp->mutable_signature());
}

grpc::Status ImmuServiceImpl::FlushIndex(grpc::ServerContext* ctx, const schema::FlushIndexRequest*,
                                         schema::FlushIndexResponse* resp) {
  auto db = AuthorizeDb(ctx, Access::kAdmin);
  if (!db.ok()) return ToGrpcStatus(db.status());
  resp->set_database((*db)->name);
  return grpc::Status::OK;
}

grpc::Status ImmuServiceImpl::CompactIndex(grpc::ServerContext* ctx, const Empty*, Empty*) {
  auto db = AuthorizeDb(ctx, Access::kAdmin);
  if (!db.ok()) return ToGrpcStatus(db.status());
  return grpc::Status::OK;
}

}  // namespace immudb::server
