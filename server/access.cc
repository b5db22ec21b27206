// Caller authentication and the per-call permission check (wire-api.md §5.5).
#include "server/errors.h"
#include "server/service.h"

namespace immudb::server {
namespace {

std::string Metadata(grpc::ServerContext* ctx, const char* key) {
  const auto& md = ctx->client_metadata();
  auto it = md.find(key);
  if (it == md.end()) return "";
  return std::string(it->second.data(), it->second.size());
}

bool IsLocalPeer(const std::string& peer) {
  return peer.rfind("ipv4:127.", 0) == 0 || peer.rfind("ipv6:[::1]", 0) == 0 ||
         peer.rfind("unix:", 0) == 0;
}

}  // namespace

Status ImmuServiceImpl::CheckLocalWhenAuthOff(grpc::ServerContext* ctx) const {
  if (s_->config.auth || s_->config.devmode || IsLocalPeer(ctx->peer())) return Status::OK();
  return Status::PermissionDenied(kErrAuthDisabledRemote);
}

Result<Caller> ImmuServiceImpl::Authenticate(grpc::ServerContext* ctx) const {
  Caller c;
  c.token = Metadata(ctx, "authorization");
  IMMUDB_ASSIGN_OR_RETURN(TokenInfo info, s_->tokens->Resolve(c.token));
  auto user = s_->users->Get(info.username);
  if (!user.ok()) return Status(StatusCode::kUnknown, kErrNotLoggedIn);
  c.user = std::move(user).value();
  c.database = info.database;
  return c;
}

Result<DbHandle*> ImmuServiceImpl::AuthorizeDb(grpc::ServerContext* ctx, Access access,
                                               Caller* caller) const {
  if (!s_->config.auth) {
    IMMUDB_RETURN_IF_ERROR(CheckLocalWhenAuthOff(ctx));
    if (s_->config.maintenance && access != Access::kRead) {
      return Status::InvalidArgument(kErrMaintenance);
    }
    return s_->dbs->Get(kDefaultDb);
  }
  IMMUDB_ASSIGN_OR_RETURN(Caller c, Authenticate(ctx));
  if (c.database.empty()) return Status(StatusCode::kUnknown, kErrSelectDb);
  auto db = s_->dbs->Get(c.database);
  if (!db.ok()) return Status(StatusCode::kUnknown, kErrSelectDb);
  if (!c.user.IsSysAdmin()) {
    const uint32_t level = c.user.PermissionOn(c.database);
    bool ok = false;
    switch (access) {
      case Access::kRead:
        ok = level == kPermRead || level == kPermReadWrite || level == kPermAdmin;
        break;
      case Access::kWrite:
        ok = level == kPermReadWrite || level == kPermAdmin;
        break;
      case Access::kAdmin:
        ok = level == kPermAdmin;
        break;
    }
    if (!ok) return Status::Internal(kErrPermissionDenied);
  }
  if (caller) *caller = std::move(c);
  return db;
}

}  // namespace immudb::server
