#include "client/admin.h"

#include <bit>
#include <cstring>

#include "client/convert.h"
#include "server/stream_framing.h"

namespace immudb::client {
namespace {

using google::protobuf::Empty;
using Stub = schema::ImmuService::Stub;

uint64_t ReadU64(std::string_view s) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(s[i]);
  return v;
}

// A length-prefixed field of a sorted-set key; false when it does not fit.
bool TakeLengthPrefixed(std::string_view* in, std::string_view* out) {
  if (in->size() < 8) return false;
  const uint64_t n = ReadU64(*in);
  in->remove_prefix(8);
  if (n > in->size()) return false;
  *out = in->substr(0, n);
  in->remove_prefix(n);
  return true;
}

Status Malformed(const RawEntry& e, const std::string& what) {
  return Status::InvalidArgument(what + " (stored key " + ToHex(e.entry.key) + ")");
}

}  // namespace

uint32_t PermissionFromName(const std::string& name) {
  if (name == "read") return kPermRead;
  if (name == "readwrite") return kPermReadWrite;
  if (name == "admin") return kPermAdmin;
  if (name == "sysadmin") return kPermSysAdmin;
  return 0;
}

std::string PermissionName(uint32_t level) {
  switch (level) {
    case kPermRead:
      return "read";
    case kPermReadWrite:
      return "readwrite";
    case kPermAdmin:
      return "admin";
    case kPermSysAdmin:
      return "sysadmin";
    default:
      return "";
  }
}

// ---- users ----

Result<std::vector<UserInfo>> ListUsers(Client& c) {
  schema::UserList resp;
  IMMUDB_RETURN_IF_ERROR(c.Unary(&Stub::ListUsers, Empty(), &resp));
  std::vector<UserInfo> out;
  for (const schema::User& u : resp.users()) {
    UserInfo info;
    info.name = u.user();
    for (const schema::Permission& p : u.permissions()) {
      info.permissions.emplace_back(p.database(), p.permission());
    }
    info.created_by = u.createdby();
    info.created_at = u.createdat();
    info.active = u.active();
    out.push_back(std::move(info));
  }
  return out;
}

Status CreateUser(Client& c, const std::string& user, const std::string& password,
                  uint32_t permission, const std::string& database) {
  schema::CreateUserRequest req;
  req.set_user(user);
  req.set_password(password);
  req.set_permission(permission);
  req.set_database(database);
  Empty resp;
  return c.Unary(&Stub::CreateUser, req, &resp);
}

Status ChangePassword(Client& c, const std::string& user, const std::string& old_password,
                      const std::string& new_password) {
  schema::ChangePasswordRequest req;
  req.set_user(user);
  req.set_oldpassword(old_password);
  req.set_newpassword(new_password);
  Empty resp;
  return c.Unary(&Stub::ChangePassword, req, &resp);
}

Status ChangePermission(Client& c, bool grant, const std::string& user, const std::string& database,
                        uint32_t permission) {
  schema::ChangePermissionRequest req;
  req.set_action(grant ? schema::GRANT : schema::REVOKE);
  req.set_username(user);
  req.set_database(database);
  req.set_permission(permission);
  Empty resp;
  return c.Unary(&Stub::ChangePermission, req, &resp);
}

Status SetActiveUser(Client& c, const std::string& user, bool active) {
  schema::SetActiveUserRequest req;
  req.set_username(user);
  req.set_active(active);
  Empty resp;
  return c.Unary(&Stub::SetActiveUser, req, &resp);
}

// ---- databases ----

Result<std::vector<DatabaseInfo>> ListDatabases(Client& c) {
  schema::DatabaseListResponseV2 resp;
  IMMUDB_RETURN_IF_ERROR(c.Unary(&Stub::DatabaseListV2, schema::DatabaseListRequestV2(), &resp));
  std::vector<DatabaseInfo> out;
  for (const schema::DatabaseInfo& d : resp.databases()) {
    DatabaseInfo info;
    info.name = d.name();
    info.loaded = d.loaded();
    info.disk_size = d.disksize();
    info.num_transactions = d.numtransactions();
    info.created_at = d.created_at();
    info.created_by = d.created_by();
    info.settings = d.settings();
    out.push_back(std::move(info));
  }
  return out;
}

Result<schema::DatabaseNullableSettings> CreateDatabase(
    Client& c, const std::string& name, const schema::DatabaseNullableSettings& settings,
    bool if_not_exists, bool* already_existed) {
  schema::CreateDatabaseRequest req;
  req.set_name(name);
  *req.mutable_settings() = settings;
  req.set_ifnotexists(if_not_exists);
  schema::CreateDatabaseResponse resp;
  IMMUDB_RETURN_IF_ERROR(c.Unary(&Stub::CreateDatabaseV2, req, &resp));
  if (already_existed != nullptr) *already_existed = resp.alreadyexisted();
  return resp.settings();
}

Status LoadDatabase(Client& c, const std::string& name) {
  schema::LoadDatabaseRequest req;
  req.set_database(name);
  schema::LoadDatabaseResponse resp;
  return c.Unary(&Stub::LoadDatabase, req, &resp);
}

Status UnloadDatabase(Client& c, const std::string& name) {
  schema::UnloadDatabaseRequest req;
  req.set_database(name);
  schema::UnloadDatabaseResponse resp;
  return c.Unary(&Stub::UnloadDatabase, req, &resp);
}

Status DeleteDatabase(Client& c, const std::string& name) {
  schema::DeleteDatabaseRequest req;
  req.set_database(name);
  schema::DeleteDatabaseResponse resp;
  return c.Unary(&Stub::DeleteDatabase, req, &resp);
}

Result<schema::DatabaseNullableSettings> UpdateDatabase(
    Client& c, const std::string& name, const schema::DatabaseNullableSettings& settings) {
  schema::UpdateDatabaseRequest req;
  req.set_database(name);
  *req.mutable_settings() = settings;
  schema::UpdateDatabaseResponse resp;
  IMMUDB_RETURN_IF_ERROR(c.Unary(&Stub::UpdateDatabaseV2, req, &resp));
  return resp.settings();
}

Result<TxHeader> ReplicateTx(Client& c, const std::string& exported) {
  auto ctx = c.NewContext();
  ctx->AddMetadata("wait-for-indexing", "true");
  schema::TxHeader resp;
  auto writer = c.stub().replicateTx(ctx.get(), &resp);
  // One stream message; a broken stream is reported by Finish.
  server::StreamWriter out([&writer](const schema::Chunk& chunk) { return writer->Write(chunk); });
  (void)out.Send(exported);
  writer->WritesDone();
  IMMUDB_RETURN_IF_ERROR(c.Finish(*ctx, writer->Finish()));
  return FromProto(resp);
}

Result<std::string> ExportTx(Client& c, uint64_t id) {
  auto ctx = c.NewContext();
  schema::ExportTxRequest req;
  req.set_tx(id);
  auto reader = c.stub().exportTx(ctx.get(), req);
  server::StreamReader in([&reader](schema::Chunk* chunk) { return reader->Read(chunk); });
  auto msg = in.Next();
  // Drain what is left, so Finish reports the server's status.
  schema::Chunk rest;
  bool extra = false;
  while (reader->Read(&rest)) extra = true;
  IMMUDB_RETURN_IF_ERROR(c.Finish(*ctx, reader->Finish()));
  if (!msg.ok()) return msg.status();
  if (!msg->has_value() || extra) {
    return Status::InvalidArgument("exportTx of tx " + std::to_string(id) +
                                   " did not stream exactly one message");
  }
  return std::move(**msg);
}

Status FlushIndex(Client& c, float cleanup_percentage, bool synced) {
  schema::FlushIndexRequest req;
  req.set_cleanuppercentage(cleanup_percentage);
  req.set_synced(synced);
  schema::FlushIndexResponse resp;
  return c.Unary(&Stub::FlushIndex, req, &resp);
}

Status CompactIndex(Client& c) {
  google::protobuf::Empty req, resp;
  return c.Unary(&Stub::CompactIndex, req, &resp);
}

Status TruncateDatabase(Client& c, const std::string& name, int64_t retention_ms) {
  schema::TruncateDatabaseRequest req;
  req.set_database(name);
  req.set_retentionperiod(retention_ms);
  schema::TruncateDatabaseResponse resp;
  return c.Unary(&Stub::TruncateDatabase, req, &resp);
}

Status UpdateAuthConfig(Client& c, uint32_t kind) {
  schema::AuthConfig req;
  req.set_kind(kind);
  google::protobuf::Empty resp;
  return c.Unary(&Stub::UpdateAuthConfig, req, &resp);
}

Status UpdateMTLSConfig(Client& c, bool enabled) {
  schema::MTLSConfig req;
  req.set_enabled(enabled);
  google::protobuf::Empty resp;
  return c.Unary(&Stub::UpdateMTLSConfig, req, &resp);
}

Result<ServerInfo> GetServerInfo(Client& c) {
  schema::ServerInfoResponse resp;
  IMMUDB_RETURN_IF_ERROR(c.Unary(&Stub::ServerInfo, schema::ServerInfoRequest(), &resp));
  ServerInfo info;
  info.version = resp.version();
  info.started_at = resp.startedat();
  info.num_transactions = resp.numtransactions();
  info.num_databases = resp.numdatabases();
  info.disk_size = resp.databasesdisksize();
  return info;
}

// ---- raw transactions ----

Result<std::vector<RawTx>> ScanRawTxs(Client& c, uint64_t first_tx, uint32_t limit) {
  schema::TxScanRequest req;
  req.set_initialtx(first_tx);
  req.set_limit(limit);
  schema::EntriesSpec* spec = req.mutable_entriesspec();
  spec->mutable_kventriesspec()->set_action(schema::RAW_VALUE);
  spec->mutable_zentriesspec()->set_action(schema::RAW_VALUE);
  spec->mutable_sqlentriesspec()->set_action(schema::RAW_VALUE);
  schema::TxList resp;
  IMMUDB_RETURN_IF_ERROR(c.Unary(&Stub::TxScan, req, &resp));
  std::vector<RawTx> out;
  out.reserve(resp.txs_size());
  for (const schema::Tx& tx : resp.txs()) {
    RawTx raw;
    IMMUDB_ASSIGN_OR_RETURN(raw.header, FromProto(tx.header()));
    for (const schema::TxEntry& e : tx.entries()) {
      RawEntry re;
      IMMUDB_ASSIGN_OR_RETURN(re.entry, FromProto(e));
      re.value = e.value();
      raw.entries.push_back(std::move(re));
    }
    out.push_back(std::move(raw));
  }
  return out;
}

Result<schema::Op> OpFromStored(const RawEntry& e) {
  const std::string& key = e.entry.key;
  schema::Op op;
  if (key.size() >= 2 && key[0] == 0x00) {
    const std::string user_key = key.substr(1);
    if (e.entry.md.deleted && e.value.empty()) {  // A logical delete.
      schema::KeyValue* kv = op.mutable_kv();
      kv->set_key(user_key);
      ToProto(e.entry.md, kv->mutable_metadata());
      return op;
    }
    if (!e.value.empty() && e.value[0] == 0x00) {
      schema::KeyValue* kv = op.mutable_kv();
      kv->set_key(user_key);
      kv->set_value(e.value.substr(1));
      ToProto(e.entry.md, kv->mutable_metadata());
      return op;
    }
    if (!e.value.empty() && e.value[0] == 0x01) {
      if (!e.entry.md.empty()) return Malformed(e, "a reference with KV metadata");
      if (e.value.size() < 11 || e.value[9] != 0x00) return Malformed(e, "malformed reference");
      schema::ReferenceRequest* ref = op.mutable_ref();
      ref->set_key(user_key);
      ref->set_referencedkey(e.value.substr(10));
      ref->set_attx(ReadU64(std::string_view(e.value).substr(1)));
      ref->set_boundref(ref->attx() > 0);
      return op;
    }
    return Malformed(e, "unknown value prefix");
  }
  if (!key.empty() && key[0] == 0x01) {
    if (!e.entry.md.empty() || !e.value.empty()) {
      return Malformed(e, "a sorted-set member with a value or KV metadata");
    }
    std::string_view in(key);
    in.remove_prefix(1);
    std::string_view set, member;
    if (!TakeLengthPrefixed(&in, &set) || in.size() < 8) return Malformed(e, "malformed zadd key");
    const double score = std::bit_cast<double>(ReadU64(in));
    in.remove_prefix(8);
    if (!TakeLengthPrefixed(&in, &member) || in.size() != 8 || member.size() < 2 ||
        member[0] != 0x00 || set.empty()) {
      return Malformed(e, "malformed zadd key");
    }
    schema::ZAddRequest* z = op.mutable_zadd();
    z->set_set(std::string(set));
    z->set_score(score);
    z->set_key(std::string(member.substr(1)));
    z->set_attx(ReadU64(in));
    z->set_boundref(z->attx() > 0);
    return op;
  }
  return Malformed(e, "only key-value, reference and sorted-set entries can be restored");
}

Result<TxHeader> WriteRawTx(Client& c, const std::vector<RawEntry>& entries) {
  schema::ExecAllRequest req;
  for (const RawEntry& e : entries) {
    IMMUDB_ASSIGN_OR_RETURN(*req.add_operations(), OpFromStored(e));
  }
  schema::TxHeader resp;
  IMMUDB_RETURN_IF_ERROR(c.Unary(&Stub::ExecAll, req, &resp));
  return FromProto(resp);
}

}  // namespace immudb::client
