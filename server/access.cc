// Caller authentication and the per-call permission check (wire-api.md §5.5).
#include "server/errors.h"
#include "server/service.h"

namespace immudb::server {
std::string CallMetadata(const grpc::ServerContextBase* ctx, const char* key) {
  return std::string(CallMetadataView(ctx, key));
}

std::string_view CallMetadataView(const grpc::ServerContextBase* ctx, const char* key) {
  const auto& md = ctx->client_metadata();
  auto it = md.find(key);
  if (it == md.end()) return {};
  return std::string_view(it->second.data(), it->second.size());
}

namespace {

bool IsLocalPeer(const std::string& peer) {
  return peer.rfind("ipv4:127.", 0) == 0 || peer.rfind("ipv6:[::1]", 0) == 0 ||
         peer.rfind("unix:", 0) == 0;
}

}  // namespace

Status ImmuServiceImpl::CheckLocalWhenAuthOff(grpc::ServerContextBase* ctx) const {
  if (s_->config.auth || s_->config.devmode || IsLocalPeer(ctx->peer())) return Status::OK();
  return Status::PermissionDenied(kErrAuthDisabledRemote);
}

Result<Caller> ImmuServiceImpl::Authenticate(grpc::ServerContextBase* ctx) const {
  Caller c;
  // A session id takes precedence over a token (wire-api.md §1.2).
  c.session_id = CallMetadata(ctx, "sessionid");
  if (!c.session_id.empty()) {
    IMMUDB_ASSIGN_OR_RETURN(SessionInfo session, s_->sessions->Touch(c.session_id));
    auto user = s_->users->Get(session.username);
    if (!user.ok() || !user->active) return Status::PermissionDenied(kErrSessionNotFound);
    c.user = std::move(user).value();
    c.database = session.database;
    return c;
  }
  c.token = CallMetadata(ctx, "authorization");
  IMMUDB_ASSIGN_OR_RETURN(TokenInfo info, s_->tokens->Resolve(c.token));
  auto user = s_->users->Get(info.username);
  if (!user.ok()) return Status(StatusCode::kUnknown, kErrNotLoggedIn);
  c.user = std::move(user).value();
  c.database = info.database;
  return c;
}

bool ReadOnlyAllowed(Access access) {
  return access == Access::kRead || access == Access::kReadAll || access == Access::kAdmin;
}

namespace {

// Whether permission `level` on a database allows `access` there.
bool LevelAllows(Access access, uint32_t level) {
  switch (access) {
    case Access::kRead:
    case Access::kReadInfo:
      return level == kPermRead || level == kPermReadWrite || level == kPermAdmin;
    case Access::kReadAll:
    case Access::kWrite:
      return level == kPermReadWrite || level == kPermAdmin;
    case Access::kAdmin:
      return level == kPermAdmin;
  }
  return false;
}

}  // namespace

Result<DbRef> ImmuServiceImpl::AuthorizeDb(grpc::ServerContextBase* ctx, Access access,
                                           Caller* caller) const {
  if (s_->config.auth && caller == nullptr) return AuthorizeDbRights(ctx, access);
  Caller c;
  if (!s_->config.auth) {
    IMMUDB_RETURN_IF_ERROR(CheckLocalWhenAuthOff(ctx));
    if (!s_->config.maintenance) {
      IMMUDB_ASSIGN_OR_RETURN(DbHandle * def, s_->dbs->Get(kDefaultDb));
      return DbRef(def);
    }
    // Maintenance mode (immudb's getDBFromCtx): only the read-only calls,
    // on the database chosen with UseDatabase, whose token the caller sends;
    // the caller acts as the sysadmin.
    if (!ReadOnlyAllowed(access)) return Status::InvalidArgument(kErrMaintenance);
    auto info = s_->tokens->Resolve(CallMetadata(ctx, "authorization"));
    if (!info.ok()) {
      if (info.status().code() == StatusCode::kPermissionDenied) return info.status();
      return Status(StatusCode::kUnknown, kErrMaintenanceSelectDb);
    }
    c.user.permissions["*"] = kPermSysAdmin;
    c.database = info->database;
  } else {
    IMMUDB_ASSIGN_OR_RETURN(c, Authenticate(ctx));
  }
  const bool sysadmin = c.user.IsSysAdmin();
  IMMUDB_ASSIGN_OR_RETURN(DbHandle * handle,
                          SelectedDb(c.database, access, sysadmin,
                                     sysadmin ? kPermSysAdmin : c.user.PermissionOn(c.database)));
  if (caller) *caller = std::move(c);
  return DbRef(handle);
}

Result<DbRef> ImmuServiceImpl::AuthorizeDbRights(grpc::ServerContextBase* ctx,
                                                 Access access) const {
  // As Authenticate, then AuthorizeDb's checks, in the same order and with
  // the same errors; the user's record is read in place, not copied.
  std::string database;
  UserStore::Rights rights;
  const std::string_view session_id = CallMetadataView(ctx, "sessionid");
  if (!session_id.empty()) {
    IMMUDB_ASSIGN_OR_RETURN(SessionInfo session, s_->sessions->Touch(std::string(session_id)));
    auto r = s_->users->RightsOn(session.username, session.database);
    if (!r.ok() || !r->active) return Status::PermissionDenied(kErrSessionNotFound);
    rights = *r;
    database = std::move(session.database);
  } else {
    IMMUDB_ASSIGN_OR_RETURN(TokenInfo info,
                            s_->tokens->Resolve(CallMetadataView(ctx, "authorization")));
    auto r = s_->users->RightsOn(info.username, info.database);
    if (!r.ok()) return Status(StatusCode::kUnknown, kErrNotLoggedIn);
    rights = *r;
    database = std::move(info.database);
  }
  IMMUDB_ASSIGN_OR_RETURN(DbHandle * handle,
                          SelectedDb(database, access, rights.sysadmin,
                                     rights.sysadmin ? kPermSysAdmin : rights.level));
  return DbRef(handle);
}

Result<DbHandle*> ImmuServiceImpl::SelectedDb(const std::string& database, Access access,
                                              bool sysadmin, uint32_t level) const {
  if (database.empty()) return Status(StatusCode::kUnknown, kErrSelectDb);
  DbHandle* handle = nullptr;
  if (database == kSystemDb) {
    // systemdb is read-only from outside, whoever selected it.
    if (!ReadOnlyAllowed(access)) return Status::Internal(kErrPermissionDenied);
    handle = s_->dbs->systemdb();
  } else {
    auto db = s_->dbs->Get(database);
    if (!db.ok()) return Status(StatusCode::kUnknown, kErrSelectDb);
    handle = *db;
  }
  if (!sysadmin && !LevelAllows(access, level)) return Status::Internal(kErrPermissionDenied);
  return handle;
}

void ImmuServiceImpl::LogOutEverywhere(const std::string& username) {
  s_->tokens->DropUser(username);
  s_->sessions->CloseUser(username);
}

grpc::Status ImmuServiceImpl::SignState(const std::string& db, uint64_t tx_id, const Hash& alh,
                                        schema::Signature* out) const {
  if (!s_->signer) return grpc::Status::OK;
  auto sig = s_->signer->Sign(db, tx_id, alh);
  if (!sig.ok()) return ToGrpcStatus(sig.status());
  out->set_publickey(s_->signer->public_key());
  out->set_signature(*sig);
  return grpc::Status::OK;
}

grpc::Status ImmuServiceImpl::SignVerifiableTx(const std::string& db, const VerifiableTx& v,
                                               schema::VerifiableTx* out) const {
  if (!s_->signer) return grpc::Status::OK;
  const TxHeader& target = v.dual_proof.target_tx_header;
  auto alh = target.Alh();
  if (!alh.ok()) return ToGrpcStatus(alh.status());
  return SignState(db, target.id, *alh, out->mutable_signature());
}

}  // namespace immudb::server
