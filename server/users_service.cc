// Login, logout and user management (wire-api.md §5.2, §5.5).
#include "server/errors.h"
#include "server/password.h"
#include "server/service.h"

namespace immudb::server {
namespace {

using google::protobuf::Empty;

constexpr char kDefaultPasswordWarning[] =
    "immudb user has the default password: please change it to ensure proper security";
// ChangePassword and SetActiveUser by a user who is neither the sysadmin nor
// an admin of any database.
constexpr char kErrNotAnAdmin[] = "user is not system admin nor admin in any of the databases";

void UserToProto(const UserRecord& u, schema::User* out) {
  out->set_user(u.username);
  for (const auto& [db, level] : u.permissions) {
    auto* p = out->add_permissions();
    p->set_database(db);
    p->set_permission(level);
  }
  out->set_createdby(u.created_by);
  out->set_createdat(u.created_at);
  out->set_active(u.active);
}

}  // namespace

grpc::Status ImmuServiceImpl::DoLogin(grpc::ServerContextBase*, const schema::LoginRequest* req,
                                      schema::LoginResponse* resp) {
  if (!s_->config.auth) return Unknown(kErrAuthDisabledLogin);
  auto user = s_->users->Get(req->user());
  if (!user.ok() || !CheckPassword(req->password(), user->hashed_password)) {
    return Unknown(kErrInvalidLogin);
  }
  if (!user->active) return Unknown(kErrUserNotActive);
  const std::string db = s_->multi_db.load() ? "" : kDefaultDb;
  resp->set_token(s_->tokens->Login(user->username, db));
  if (user->username == kSysAdminUser && req->password() == kDefaultAdminPassword) {
    resp->set_warning(kDefaultPasswordWarning);
  }
  return grpc::Status::OK;
}

grpc::Status ImmuServiceImpl::DoLogout(grpc::ServerContextBase* ctx, const Empty*, Empty*) {
  auto caller = Authenticate(ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  s_->tokens->Logout(caller->token);
  return grpc::Status::OK;
}

grpc::Status ImmuServiceImpl::DoListUsers(grpc::ServerContextBase* ctx, const Empty*,
                                          schema::UserList* resp) {
  auto caller = Authenticate(ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  const UserRecord& me = caller->user;
  const bool db_admin =
      !caller->database.empty() && me.PermissionOn(caller->database) == kPermAdmin;
  for (const UserRecord& u : s_->users->List()) {
    const bool visible = me.IsSysAdmin() || u.username == me.username ||
                         (db_admin && u.permissions.count(caller->database) > 0);
    if (visible) UserToProto(u, resp->add_users());
  }
  return grpc::Status::OK;
}

grpc::Status ImmuServiceImpl::DoCreateUser(grpc::ServerContextBase* ctx,
                                           const schema::CreateUserRequest* req, Empty*) {
  if (!s_->config.auth) return Unknown("this command is available only with authentication on");
  auto caller = Authenticate(ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (!IsValidUsername(req->user())) {
    return Unknown("username can only contain letters, digits and underscores");
  }
  if (req->password().empty()) return Unknown("password can not be empty");
  std::string db = req->database();
  if (db.empty()) {
    if (s_->multi_db.load()) {
      return Unknown("database name can not be empty when there are multiple databases");
    }
    db = kDefaultDb;
  }
  if (!s_->dbs->Exists(db)) return Unknown("database " + db + " does not exist");
  const uint32_t perm = req->permission();
  if (perm == kPermSysAdmin) return Unknown("can not create another system admin");
  if (perm != kPermRead && perm != kPermReadWrite && perm != kPermAdmin) {
    return Unknown("unrecognized permission");
  }
  if (caller->user.PermissionOn(db) < kPermAdmin) {
    return Unknown("you do not have permission on this database");
  }
  if (s_->users->Exists(req->user())) return Unknown("user already exists");
  auto hash = HashPassword(req->password());
  if (!hash.ok()) return ToGrpcStatus(hash.status());
  UserRecord u;
  u.username = req->user();
  u.hashed_password = std::move(hash).value();
  u.permissions[db] = perm;
  u.created_by = caller->user.username;
  u.created_at = NowTimeString();
  return ToGrpcStatus(s_->users->Put(u));
}

grpc::Status ImmuServiceImpl::DoChangePassword(grpc::ServerContextBase* ctx,
                                               const schema::ChangePasswordRequest* req, Empty*) {
  auto caller = Authenticate(ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  const UserRecord& me = caller->user;
  if (!me.IsSysAdmin() && !me.IsAdminSomewhere()) return Unknown(kErrNotAnAdmin);
  auto target = s_->users->Get(req->user());
  if (!target.ok() || (!me.IsSysAdmin() && target->created_by != me.username)) {
    return Unknown("user " + req->user() + " was not found or it was not created by you");
  }
  if (target->username == kSysAdminUser && !CheckPassword(req->oldpassword(), me.hashed_password)) {
    return PermissionDenied("old password is incorrect");
  }
  if (req->newpassword().empty()) return Unknown("password can not be empty");
  auto hash = HashPassword(req->newpassword());
  if (!hash.ok()) return ToGrpcStatus(hash.status());
  UserRecord u = std::move(target).value();
  u.hashed_password = std::move(hash).value();
  return StoreChangedUser(std::move(u), me.username);
}

grpc::Status ImmuServiceImpl::DoChangePermission(grpc::ServerContextBase* ctx,
                                                 const schema::ChangePermissionRequest* req,
                                                 Empty*) {
  auto caller = Authenticate(ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (req->username().empty()) return InvalidArgument("username can not be empty");
  if (req->database().empty()) return InvalidArgument("database can not be empty");
  if (req->database() != kSystemDb && !s_->dbs->Exists(req->database())) {
    return InvalidArgument("database does not exist");
  }
  if (req->action() != schema::GRANT && req->action() != schema::REVOKE) {
    return InvalidArgument("action not recognized");
  }
  const uint32_t perm = req->permission();
  if (perm != kPermRead && perm != kPermReadWrite && perm != kPermAdmin) {
    return InvalidArgument("unrecognized permission");
  }
  const UserRecord& me = caller->user;
  if (req->username() == me.username) {
    return InvalidArgument("changing your own permissions is not allowed");
  }
  if (req->username() == kSysAdminUser) {
    return InvalidArgument("changing sysadmin permissions is not allowed");
  }
  if (req->database() == kSystemDb && perm == kPermReadWrite) {
    return Internal(kErrPermissionDenied);  // immudb's uncoded error.
  }
  auto target = s_->users->Get(req->username());
  if (!target.ok()) return NotFound("user " + req->username() + " not found");
  if (!target->active) {
    return GrpcError(grpc::StatusCode::FAILED_PRECONDITION,
                     "user " + req->username() + " is not active");
  }
  if (me.PermissionOn(req->database()) < kPermAdmin) {
    return PermissionDenied("you do not have permission on this database");
  }
  UserRecord u = std::move(target).value();
  if (req->action() == schema::GRANT) {
    u.permissions[req->database()] = perm;
  } else {
    u.permissions.erase(req->database());
  }
  return StoreChangedUser(std::move(u), me.username);
}

grpc::Status ImmuServiceImpl::DoSetActiveUser(grpc::ServerContextBase* ctx,
                                              const schema::SetActiveUserRequest* req, Empty*) {
  auto caller = Authenticate(ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (req->username().empty()) return Unknown("username can not be empty");
  const UserRecord& me = caller->user;
  if (!me.IsSysAdmin() && !me.IsAdminSomewhere()) return Unknown(kErrNotAnAdmin);
  if (req->username() == me.username) return Unknown("changing your own status is not allowed");
  auto target = s_->users->Get(req->username());
  if (!target.ok()) return Unknown("user " + req->username() + " not found");
  if (!me.IsSysAdmin() && target->created_by != me.username) {
    return Unknown(req->username() + " was not created by you");
  }
  UserRecord u = std::move(target).value();
  u.active = req->active();
  return StoreChangedUser(std::move(u), me.username);
}

grpc::Status ImmuServiceImpl::DoUpdateAuthConfig(grpc::ServerContextBase*,
                                                 const schema::AuthConfig*, Empty*) {
  return Internal(kErrNotSupported);
}

grpc::Status ImmuServiceImpl::DoUpdateMTLSConfig(grpc::ServerContextBase*,
                                                 const schema::MTLSConfig*, Empty*) {
  return Internal(kErrNotSupported);
}

grpc::Status ImmuServiceImpl::StoreChangedUser(UserRecord u, const std::string& changed_by) {
  u.created_by = changed_by;
  u.created_at = NowTimeString();
  Status st = s_->users->Put(u);
  if (st.ok()) LogOutEverywhere(u.username);
  return ToGrpcStatus(st);
}

}  // namespace immudb::server
