// Database administration, health, server info and state (wire-api.md §5.3).
#include <google/protobuf/descriptor.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <set>

#include "server/errors.h"
#include "server/metrics.h"
#include "server/service.h"

namespace immudb::server {
namespace {

using google::protobuf::Empty;

// Applies the fields present in `in` to `out`, the settings of database
// `name`. Settings this server does not have are InvalidArgument, naming the
// setting; so is changing the file size of an existing database
// (`existing`). Truncation settings out of immudb's bounds are refused with
// immudb's texts.
grpc::Status ApplySettings(const schema::DatabaseNullableSettings& in, const std::string& name,
                           bool existing, DbSettings* out) {
  static const std::set<std::string> kSupported = {
      "fileSize",          "maxKeyLen", "maxValueLen",          "maxTxEntries",
      "excludeCommitTime", "autoload",  "writeTxHeaderVersion", "replicationSettings",
      "truncationSettings"};
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  in.GetReflection()->ListFields(in, &fields);
  for (const auto* f : fields) {
    if (kSupported.count(f->json_name()) == 0 && kSupported.count(f->name()) == 0) {
      return InvalidArgument("setting " + f->name() + " is not supported by this server");
    }
  }
  if (in.has_replicationsettings()) {
    // Only the replica flag: a replica is fed by replicateTx (no replicator
    // that follows a primary by itself yet).
    const auto& rs = in.replicationsettings();
    std::vector<const google::protobuf::FieldDescriptor*> rfields;
    rs.GetReflection()->ListFields(rs, &rfields);
    static const std::set<std::string> kReplication = {"replica",         "primaryHost",
                                                       "primaryPort",     "primaryDatabase",
                                                       "primaryUsername", "primaryPassword"};
    for (const auto* f : rfields) {
      if (kReplication.count(f->json_name()) == 0) {
        return InvalidArgument("setting replicationSettings." + f->json_name() +
                               " is not supported by this server");
      }
    }
    // On an existing database a change takes effect when it is next loaded.
    if (rs.has_replica()) out->replica = rs.replica().value();
    if (rs.has_primaryhost()) out->primary_host = rs.primaryhost().value();
    if (rs.has_primaryport()) {
      if (rs.primaryport().value() == 0 || rs.primaryport().value() > 65535) {
        return InvalidArgument("invalid replicationSettings.primaryPort");
      }
      out->primary_port = rs.primaryport().value();
    }
    if (rs.has_primarydatabase()) out->primary_database = rs.primarydatabase().value();
    if (rs.has_primaryusername()) out->primary_username = rs.primaryusername().value();
    if (rs.has_primarypassword()) out->primary_password = rs.primarypassword().value();
    if (!out->primary_host.empty() && !out->replica) {
      return InvalidArgument("a primary host is set only for a replica");
    }
  }
  if (in.has_writetxheaderversion() && in.writetxheaderversion().value() != 1) {
    return InvalidArgument("only tx header version 1 is supported by this server");
  }
  if (in.has_filesize()) {
    if (existing && in.filesize().value() != out->file_size) {
      return InvalidArgument("the file size of an existing database can not be changed");
    }
    out->file_size = in.filesize().value();
  }
  if (in.has_maxkeylen()) out->max_key_len = in.maxkeylen().value();
  if (in.has_maxvaluelen()) out->max_value_len = in.maxvaluelen().value();
  if (in.has_maxtxentries()) out->max_tx_entries = in.maxtxentries().value();
  if (in.has_excludecommittime()) out->exclude_commit_time = in.excludecommittime().value();
  if (in.has_autoload()) out->autoload = in.autoload().value();
  if (in.has_truncationsettings()) {
    // Applied to an open database at once (server/truncator.h).
    const auto& ts = in.truncationsettings();
    if (ts.has_retentionperiod()) out->retention_period_ms = ts.retentionperiod().value();
    if (ts.has_truncationfrequency()) {
      out->truncation_frequency_ms = ts.truncationfrequency().value();
    }
    Status valid = out->ValidateTruncation(name);
    if (!valid.ok()) return InvalidArgument(valid.message());
  }
  Status valid = out->Validate();
  if (!valid.ok()) return InvalidArgument(valid.message());
  return grpc::Status::OK;
}

void SettingsToProto(const DbSettings& s, schema::DatabaseNullableSettings* out) {
  out->mutable_filesize()->set_value(s.file_size);
  out->mutable_maxkeylen()->set_value(s.max_key_len);
  out->mutable_maxvaluelen()->set_value(s.max_value_len);
  out->mutable_maxtxentries()->set_value(s.max_tx_entries);
  out->mutable_excludecommittime()->set_value(s.exclude_commit_time);
  out->mutable_autoload()->set_value(s.autoload);
  out->mutable_writetxheaderversion()->set_value(1);
  auto* ts = out->mutable_truncationsettings();
  ts->mutable_retentionperiod()->set_value(s.retention_period_ms);
  ts->mutable_truncationfrequency()->set_value(s.truncation_frequency_ms);
  auto* rs = out->mutable_replicationsettings();
  rs->mutable_replica()->set_value(s.replica);
  if (!s.primary_host.empty()) {
    rs->mutable_primaryhost()->set_value(s.primary_host);
    rs->mutable_primaryport()->set_value(s.primary_port);
    rs->mutable_primarydatabase()->set_value(s.primary_database);
    rs->mutable_primaryusername()->set_value(s.primary_username);
  }
}

// The flat v1 DatabaseSettings as the settings it changes: zero numbers
// mean "not given"; the replication fields are always given (the v1 message
// has no way to leave them out), except a zero primary port.
// excludeCommitTime is given only when true.
schema::DatabaseNullableSettings FromV1Settings(const schema::DatabaseSettings& in) {
  schema::DatabaseNullableSettings out;
  auto* rs = out.mutable_replicationsettings();
  rs->mutable_replica()->set_value(in.replica());
  rs->mutable_primarydatabase()->set_value(in.primarydatabase());
  rs->mutable_primaryhost()->set_value(in.primaryhost());
  if (in.primaryport() != 0) rs->mutable_primaryport()->set_value(in.primaryport());
  rs->mutable_primaryusername()->set_value(in.primaryusername());
  rs->mutable_primarypassword()->set_value(in.primarypassword());
  if (in.filesize() != 0) out.mutable_filesize()->set_value(in.filesize());
  if (in.maxkeylen() != 0) out.mutable_maxkeylen()->set_value(in.maxkeylen());
  if (in.maxvaluelen() != 0) out.mutable_maxvaluelen()->set_value(in.maxvaluelen());
  if (in.maxtxentries() != 0) out.mutable_maxtxentries()->set_value(in.maxtxentries());
  if (in.excludecommittime()) out.mutable_excludecommittime()->set_value(true);
  return out;
}

std::string Lower(std::string name) {
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return name;
}

}  // namespace

grpc::Status ImmuServiceImpl::AuthorizeDbAdmin(grpc::ServerContextBase* ctx,
                                               const std::string& db) const {
  if (!s_->config.auth) return Unknown("this command is available only with authentication on");
  if (db == kSystemDb || db == kDefaultDb) return Internal(kErrDbReserved);
  auto caller = Authenticate(ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (!caller->user.IsSysAdmin() && caller->user.PermissionOn(db) != kPermAdmin) {
    return Unknown("the database '" + db +
                   "' does not exist or you do not have admin permission on this database");
  }
  if (!s_->dbs->Exists(db)) return NotFound("'" + db + "' does not exist");
  return grpc::Status::OK;
}

grpc::Status ImmuServiceImpl::DoLoadDatabase(grpc::ServerContextBase* ctx,
                                             const schema::LoadDatabaseRequest* req,
                                             schema::LoadDatabaseResponse* resp) {
  grpc::Status st = AuthorizeDbAdmin(ctx, req->database());
  if (!st.ok()) return st;
  {
    Status done = s_->dbs->Load(req->database());
    if (!done.ok()) return ToGrpcStatus(done);
  }
  resp->set_database(req->database());
  return grpc::Status::OK;
}

grpc::Status ImmuServiceImpl::DoUnloadDatabase(grpc::ServerContextBase* ctx,
                                               const schema::UnloadDatabaseRequest* req,
                                               schema::UnloadDatabaseResponse* resp) {
  grpc::Status st = AuthorizeDbAdmin(ctx, req->database());
  if (!st.ok()) return st;
  {
    Status done = s_->dbs->Unload(req->database());
    if (!done.ok()) return ToGrpcStatus(done);
  }
  resp->set_database(req->database());
  return grpc::Status::OK;
}

grpc::Status ImmuServiceImpl::DoDeleteDatabase(grpc::ServerContextBase* ctx,
                                               const schema::DeleteDatabaseRequest* req,
                                               schema::DeleteDatabaseResponse* resp) {
  grpc::Status st = AuthorizeDbAdmin(ctx, req->database());
  if (!st.ok()) return st;
  Status done = s_->dbs->Delete(req->database());
  if (!done.ok()) return ToGrpcStatus(done);
  spdlog::info("database '{}' deleted", req->database());
  resp->set_database(req->database());
  return grpc::Status::OK;
}

grpc::Status ImmuServiceImpl::DoUpdateDatabaseV2(grpc::ServerContextBase* ctx,
                                                 const schema::UpdateDatabaseRequest* req,
                                                 schema::UpdateDatabaseResponse* resp) {
  if (s_->config.maintenance) return InvalidArgument(kErrMaintenance);
  grpc::Status st = AuthorizeDbAdmin(ctx, req->database());
  if (!st.ok()) return st;
  auto current = s_->dbs->Settings(req->database());
  if (!current.ok()) return ToGrpcStatus(current.status());
  DbSettings next = *current;
  st = ApplySettings(req->settings(), req->database(), true, &next);
  if (!st.ok()) return st;
  {
    Status done = s_->dbs->UpdateSettings(req->database(), next);
    if (!done.ok()) return ToGrpcStatus(done);
  }
  resp->set_database(req->database());
  SettingsToProto(next, resp->mutable_settings());
  return grpc::Status::OK;
}

grpc::Status ImmuServiceImpl::DoGetDatabaseSettingsV2(grpc::ServerContextBase* ctx,
                                                      const schema::DatabaseSettingsRequest*,
                                                      schema::DatabaseSettingsResponse* resp) {
  auto db = AuthorizeDb(ctx, Access::kReadInfo);
  if (!db.ok()) return ToGrpcStatus(db.status());
  auto settings = s_->dbs->Settings((*db)->name);
  if (!settings.ok()) return ToGrpcStatus(settings.status());
  resp->set_database((*db)->name);
  SettingsToProto(*settings, resp->mutable_settings());
  return grpc::Status::OK;
}

grpc::Status ImmuServiceImpl::DoGetDatabaseSettings(grpc::ServerContextBase* ctx, const Empty*,
                                                    schema::DatabaseSettings* resp) {
  schema::DatabaseSettingsRequest v2;
  schema::DatabaseSettingsResponse got;
  grpc::Status st = DoGetDatabaseSettingsV2(ctx, &v2, &got);
  if (!st.ok()) return st;
  const auto& s = got.settings();
  resp->set_databasename(got.database());
  const auto& rs = s.replicationsettings();
  resp->set_replica(rs.replica().value());
  resp->set_primarydatabase(rs.primarydatabase().value());
  resp->set_primaryhost(rs.primaryhost().value());
  resp->set_primaryport(rs.primaryport().value());
  resp->set_primaryusername(rs.primaryusername().value());
  resp->set_filesize(s.filesize().value());
  resp->set_maxkeylen(s.maxkeylen().value());
  resp->set_maxvaluelen(s.maxvaluelen().value());
  resp->set_maxtxentries(s.maxtxentries().value());
  resp->set_excludecommittime(s.excludecommittime().value());
  return grpc::Status::OK;
}

grpc::Status ImmuServiceImpl::DoCreateDatabaseWith(grpc::ServerContextBase* ctx,
                                                   const schema::DatabaseSettings* req, Empty*) {
  schema::CreateDatabaseRequest v2;
  v2.set_name(req->databasename());
  *v2.mutable_settings() = FromV1Settings(*req);
  schema::CreateDatabaseResponse ignored;
  return DoCreateDatabaseV2(ctx, &v2, &ignored);
}

grpc::Status ImmuServiceImpl::DoUpdateDatabase(grpc::ServerContextBase* ctx,
                                               const schema::DatabaseSettings* req, Empty*) {
  schema::UpdateDatabaseRequest v2;
  v2.set_database(req->databasename());
  *v2.mutable_settings() = FromV1Settings(*req);
  schema::UpdateDatabaseResponse ignored;
  return DoUpdateDatabaseV2(ctx, &v2, &ignored);
}

grpc::Status ImmuServiceImpl::DoTruncateDatabase(grpc::ServerContextBase* ctx,
                                                 const schema::TruncateDatabaseRequest* req,
                                                 schema::TruncateDatabaseResponse* resp) {
  // immudb's checks, in immudb's order.
  const std::string& name = req->database();
  if (!s_->config.auth) return InvalidArgument("authentication must be on");
  if (name == kSystemDb || name == kDefaultDb) return Internal(kErrDbReserved);
  auto caller = Authenticate(ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (!caller->user.IsSysAdmin() && caller->user.PermissionOn(name) != kPermAdmin) {
    return Unknown("the database '" + name +
                   "' does not exist or you do not have admin permission on this database");
  }
  if (req->retentionperiod() < 0 ||
      (req->retentionperiod() > 0 && req->retentionperiod() < kMinRetentionPeriodMs)) {
    return InvalidArgument(std::string(kErrIllegalArguments) +
                           ": invalid retention period for database '" + name +
                           "'. RetentionPeriod should at least '24h0m0s' hours");
  }
  if (!s_->dbs->Exists(name)) return Unknown("database does not exist");
  auto h = s_->dbs->Get(name);
  if (!h.ok()) return ToGrpcStatus(h.status());
  DbRef ref(*h);
  // Values of the txs before the last one committed by 00:00 UTC of the day
  // `retention` ago are discarded; headers and proofs stay
  // (docs/format/truncation.md).
  auto t = ref->db->Truncate(static_cast<uint64_t>(req->retentionperiod() / 1000));
  if (!t.ok()) {
    // immudb answers a plain error here (code Unknown).
    if (t.status().message() == "retention period has not been reached") {
      return Unknown(t.status().message());
    }
    return ToGrpcStatus(t.status());
  }
  resp->set_database(name);
  return grpc::Status::OK;
}

grpc::Status ImmuServiceImpl::DoCreateDatabase(grpc::ServerContextBase* ctx,
                                               const schema::Database* req, Empty*) {
  schema::CreateDatabaseRequest v2;
  v2.set_name(req->databasename());
  schema::CreateDatabaseResponse ignored;
  return DoCreateDatabaseV2(ctx, &v2, &ignored);
}

grpc::Status ImmuServiceImpl::DoCreateDatabaseV2(grpc::ServerContextBase* ctx,
                                                 const schema::CreateDatabaseRequest* req,
                                                 schema::CreateDatabaseResponse* resp) {
  if (!s_->config.auth) return Unknown("this command is available only with authentication on");
  auto caller = Authenticate(ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (!caller->user.IsSysAdmin()) return Unknown(kErrNoDbPermission);
  const std::string name = Lower(req->name());
  if (name == kSystemDb || name == kDefaultDb) return Internal(kErrDbReserved);
  Status valid = ValidateDbName(name);
  if (!valid.ok()) return Unknown(valid.message());
  resp->set_name(name);
  if (s_->dbs->Exists(name)) {
    if (!req->ifnotexists()) return Unknown(kErrDbExists);
    resp->set_alreadyexisted(true);
    return grpc::Status::OK;
  }
  DbSettings settings;
  grpc::Status applied = ApplySettings(req->settings(), name, false, &settings);
  if (!applied.ok()) return applied;
  settings.created_by = caller->user.username;
  settings.created_at = static_cast<uint64_t>(std::time(nullptr));
  auto db = s_->dbs->Create(name, settings);
  if (!db.ok()) {
    return db.status().code() == StatusCode::kAlreadyExists ? Unknown(kErrDbExists)
                                                            : ToGrpcStatus(db.status());
  }
  s_->multi_db = true;
  SettingsToProto(settings, resp->mutable_settings());
  return grpc::Status::OK;
}

grpc::Status ImmuServiceImpl::DoDatabaseList(grpc::ServerContextBase* ctx, const Empty*,
                                             schema::DatabaseListResponse* resp) {
  auto caller = Authenticate(ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  for (const std::string& name : s_->dbs->Names()) {
    if (caller->user.PermissionOn(name) == kPermNone) continue;
    resp->add_databases()->set_databasename(name);
  }
  return grpc::Status::OK;
}

grpc::Status ImmuServiceImpl::DoDatabaseListV2(grpc::ServerContextBase* ctx,
                                               const schema::DatabaseListRequestV2*,
                                               schema::DatabaseListResponseV2* resp) {
  auto caller = Authenticate(ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  for (const std::string& name : s_->dbs->Names()) {
    if (caller->user.PermissionOn(name) == kPermNone) continue;
    auto* info = resp->add_databases();
    info->set_name(name);
    auto db = s_->dbs->Get(name);
    info->set_loaded(db.ok());
    if (db.ok()) info->set_numtransactions((*db)->db->CurrentState().tx_id);
    info->set_disksize(DirSize(s_->config.dir + "/" + name));
    auto settings = s_->dbs->Settings(name);
    if (settings.ok()) {
      SettingsToProto(*settings, info->mutable_settings());
      info->set_created_by(settings->created_by);
      info->set_created_at(settings->created_at);
    }
  }
  return grpc::Status::OK;
}

namespace {

// Whether UseDatabase may select `name`: a loaded database, or systemdb,
// which is always there (the sysadmin, and users the sysadmin granted a
// permission on it, may select it; AuthorizeDb keeps it read-only).
grpc::Status CheckSelectable(const DatabaseManager& dbs, const std::string& name) {
  if (name == kSystemDb) return grpc::Status::OK;
  if (!dbs.Exists(name)) return NotFound("'" + name + "' does not exist");
  if (!dbs.IsLoaded(name)) return Unknown("already closed");
  return grpc::Status::OK;
}

}  // namespace

grpc::Status ImmuServiceImpl::DoUseDatabase(grpc::ServerContextBase* ctx,
                                            const schema::Database* req,
                                            schema::UseDatabaseReply* resp) {
  if (!s_->config.auth) {
    // Maintenance mode: no login; the caller acts as the sysadmin (local
    // callers only unless --devmode, as every auth-off call).
    if (!s_->config.maintenance) {
      return Unknown("this command is available only with authentication on");
    }
    Status local = CheckLocalWhenAuthOff(ctx);
    if (!local.ok()) return ToGrpcStatus(local);
    const std::string& name = req->databasename();
    if (grpc::Status st = CheckSelectable(*s_->dbs, name); !st.ok()) return st;
    resp->set_token(s_->tokens->Login("", name));
    return grpc::Status::OK;
  }
  auto caller = Authenticate(ctx);
  if (!caller.ok()) {
    if (caller.status().code() == StatusCode::kPermissionDenied) {
      return ToGrpcStatus(caller.status());
    }
    return GrpcError(grpc::StatusCode::UNAUTHENTICATED, "Please login");
  }
  const std::string& name = req->databasename();
  if (grpc::Status st = CheckSelectable(*s_->dbs, name); !st.ok()) return st;
  if (caller->user.PermissionOn(name) == kPermNone) {
    return PermissionDenied("Logged in user does not have permission on this database");
  }
  if (!caller->session_id.empty()) s_->sessions->SetDatabase(caller->session_id, name);
  resp->set_token(s_->tokens->Reissue(caller->user.username, name));
  return grpc::Status::OK;
}

grpc::Status ImmuServiceImpl::DoHealth(grpc::ServerContextBase*, const Empty*,
                                       schema::HealthResponse* resp) {
  resp->set_status(true);
  resp->set_version(IMMUDB_VERSION);
  return grpc::Status::OK;
}

grpc::Status ImmuServiceImpl::DoServerInfo(grpc::ServerContextBase*,
                                           const schema::ServerInfoRequest*,
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

grpc::Status ImmuServiceImpl::DoCurrentState(grpc::ServerContextBase* ctx, const Empty*,
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

grpc::Status ImmuServiceImpl::DoFlushIndex(grpc::ServerContextBase* ctx,
                                           const schema::FlushIndexRequest* req,
                                           schema::FlushIndexResponse* resp) {
  auto db = AuthorizeDb(ctx, Access::kAdmin);
  if (!db.ok()) return ToGrpcStatus(db.status());
  // The key index is RocksDB: a flush always writes and syncs whole files,
  // and space is reclaimed by compaction, so `synced` and the cleanup
  // percentage change nothing here; the percentage is still checked as
  // immudb checks it.
  const float pct = req->cleanuppercentage();
  if (!(pct >= 0 && pct <= 100)) {
    return InvalidArgument("illegal arguments: invalid cleanupPercentage");
  }
  Status st = (*db)->db->FlushIndex();
  if (!st.ok()) return ToGrpcStatus(st);
  resp->set_database((*db)->name);
  return grpc::Status::OK;
}

grpc::Status ImmuServiceImpl::DoCompactIndex(grpc::ServerContextBase* ctx, const Empty*, Empty*) {
  auto db = AuthorizeDb(ctx, Access::kAdmin);
  if (!db.ok()) return ToGrpcStatus(db.status());
  Status st = (*db)->db->CompactIndex();
  if (!st.ok()) return ToGrpcStatus(st);
  return grpc::Status::OK;
}

}  // namespace immudb::server
