// OpenSession / KeepAlive / CloseSession on ImmuService and on
// immudb.model.AuthorizationService (wire-api.md §5.4).
#include <algorithm>
#include <cctype>
#include <ctime>

#include "server/errors.h"
#include "server/password.h"
#include "server/service.h"

namespace immudb::server {
namespace {

using google::protobuf::Empty;

int64_t UnixAfter(std::chrono::milliseconds d) {
  return static_cast<int64_t>(std::time(nullptr)) +
         std::chrono::duration_cast<std::chrono::seconds>(d).count();
}

}  // namespace

grpc::Status ImmuServiceImpl::OpenSessionFor(const std::string& username,
                                             const std::string& password,
                                             const std::string& database, OpenedSession* out) {
  if (!s_->config.auth) return Unknown(kErrAuthDisabledLogin);
  auto user = s_->users->Get(username);
  if (!user.ok() || !CheckPassword(password, user->hashed_password)) {
    return Unknown(kErrInvalidLogin);
  }
  if (!user->active) return Unknown(kErrUserNotActive);
  std::string db = database.empty() ? kDefaultDb : database;
  std::transform(db.begin(), db.end(), db.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (db != kSystemDb && !s_->dbs->Exists(db)) return NotFound("'" + db + "' does not exist");
  if (user->PermissionOn(db) == kPermNone) {
    return PermissionDenied("Logged in user does not have permission on this database");
  }
  auto id = s_->sessions->Open(user->username, db);
  if (!id.ok()) return ToGrpcStatus(id.status());
  const SessionOptions& so = s_->sessions->options();
  out->id = std::move(id).value();
  out->expires_at = so.max_age.count() > 0 ? UnixAfter(so.max_age) : 0;
  out->inactive_at = UnixAfter(so.timeout);
  return grpc::Status::OK;
}

grpc::Status ImmuServiceImpl::KeepSessionAlive(grpc::ServerContextBase* ctx) {
  const std::string id = CallMetadata(ctx, "sessionid");
  if (id.empty()) return PermissionDenied(kErrSessionNotFound);
  auto s = s_->sessions->Touch(id);
  return s.ok() ? grpc::Status::OK : ToGrpcStatus(s.status());
}

grpc::Status ImmuServiceImpl::CloseCallerSession(grpc::ServerContextBase* ctx) {
  const std::string id = CallMetadata(ctx, "sessionid");
  if (id.empty() || !s_->sessions->Close(id)) return PermissionDenied(kErrSessionNotFound);
  return grpc::Status::OK;
}

grpc::Status ImmuServiceImpl::DoOpenSession(grpc::ServerContextBase*,
                                            const schema::OpenSessionRequest* req,
                                            schema::OpenSessionResponse* resp) {
  OpenedSession s;
  grpc::Status st = OpenSessionFor(req->username(), req->password(), req->databasename(), &s);
  if (!st.ok()) return st;
  resp->set_sessionid(s.id);
  resp->set_serveruuid(s_->uuid);
  return grpc::Status::OK;
}

grpc::Status ImmuServiceImpl::DoKeepAlive(grpc::ServerContextBase* ctx, const Empty*, Empty*) {
  return KeepSessionAlive(ctx);
}

grpc::Status ImmuServiceImpl::DoCloseSession(grpc::ServerContextBase* ctx, const Empty*, Empty*) {
  return CloseCallerSession(ctx);
}

grpc::Status AuthorizationServiceImpl::DoOpenSession(grpc::ServerContextBase*,
                                                     const model::OpenSessionRequest* req,
                                                     model::OpenSessionResponse* resp) {
  OpenedSession s;
  grpc::Status st = immu_->OpenSessionFor(req->username(), req->password(), req->database(), &s);
  if (!st.ok()) return st;
  resp->set_sessionid(s.id);
  resp->set_serveruuid(immu_->server_uuid());
  resp->set_expirationtimestamp(static_cast<int32_t>(s.expires_at));
  resp->set_inactivitytimestamp(static_cast<int32_t>(s.inactive_at));
  return grpc::Status::OK;
}

grpc::Status AuthorizationServiceImpl::DoKeepAlive(grpc::ServerContextBase* ctx,
                                                   const model::KeepAliveRequest*,
                                                   model::KeepAliveResponse*) {
  return immu_->KeepSessionAlive(ctx);
}

grpc::Status AuthorizationServiceImpl::DoCloseSession(grpc::ServerContextBase* ctx,
                                                      const model::CloseSessionRequest*,
                                                      model::CloseSessionResponse*) {
  return immu_->CloseCallerSession(ctx);
}

}  // namespace immudb::server
