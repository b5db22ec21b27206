#include "server/users.h"

#include <chrono>
#include <cstdio>
#include <ctime>

#include "server/json.h"

namespace immudb::server {
namespace {

constexpr char kKvPrefix = 0x00;
constexpr char kUserPrefix = 0x01;
constexpr char kPlainValue = 0x00;

// The user key (unprefixed: the database adds kKvPrefix when it stores it).
std::string UserKey(const std::string& username) { return std::string(1, kUserPrefix) + username; }

std::string Encode(const UserRecord& u) {
  Json::Array perms;
  for (const auto& [db, level] : u.permissions) {
    perms.push_back(Json(
        Json::Object{{"database", Json(db)}, {"permission", Json(static_cast<int64_t>(level))}}));
  }
  Json::Object o{
      {"username", Json(u.username)},          {"hashedpassword", Json(u.hashed_password)},
      {"permissions", Json(std::move(perms))}, {"active", Json(u.active)},
      {"createdby", Json(u.created_by)},       {"createdat", Json(u.created_at)}};
  return Json(std::move(o)).Dump();
}

Result<UserRecord> Decode(std::string_view text) {
  IMMUDB_ASSIGN_OR_RETURN(Json j, Json::Parse(text));
  UserRecord u;
  auto str = [&](const char* k, std::string* out) {
    const Json* v = j.Find(k);
    if (!v || !v->as_string()) return false;
    *out = *v->as_string();
    return true;
  };
  if (!str("username", &u.username) || !str("hashedpassword", &u.hashed_password)) {
    return Status::Corruption("user record: missing username or password hash");
  }
  str("createdby", &u.created_by);
  str("createdat", &u.created_at);
  if (const Json* a = j.Find("active"); a && a->as_bool()) u.active = *a->as_bool();
  if (const Json* p = j.Find("permissions"); p && p->as_array()) {
    for (const Json& e : *p->as_array()) {
      const Json* db = e.Find("database");
      const Json* level = e.Find("permission");
      if (!db || !db->as_string() || !level || !level->as_int()) {
        return Status::Corruption("user record: bad permission entry");
      }
      u.permissions[*db->as_string()] = static_cast<uint32_t>(*level->as_int());
    }
  }
  return u;
}

}  // namespace

bool UserRecord::IsSysAdmin() const {
  auto it = permissions.find("*");
  return it != permissions.end() && it->second == kPermSysAdmin;
}

uint32_t UserRecord::PermissionOn(const std::string& db) const {
  if (IsSysAdmin()) return kPermSysAdmin;
  auto it = permissions.find(db);
  return it == permissions.end() ? kPermNone : it->second;
}

bool UserRecord::IsAdminSomewhere() const {
  for (const auto& [db, level] : permissions) {
    if (level == kPermAdmin) return true;
  }
  return false;
}

bool IsValidUsername(const std::string& name) {
  if (name.empty() || name.size() > 63) return false;
  for (unsigned char c : name) {
    if (!std::isalnum(c) && c != '_') return false;
  }
  return true;
}

std::string NowTimeString() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count() %
            1000000000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[80];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02d %02d:%02d:%02d.%09lld +0000 UTC",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(ns));
  return buf;
}

Result<std::unique_ptr<UserStore>> UserStore::Open(Database* systemdb) {
  std::unique_ptr<UserStore> us(new UserStore(systemdb));
  IMMUDB_RETURN_IF_ERROR(us->Load());
  return us;
}

Status UserStore::Load() {
  const uint64_t last = db_->CurrentState().tx_id;
  std::map<std::string, UserRecord> users;
  for (uint64_t id = 1; id <= last; ++id) {
    IMMUDB_ASSIGN_OR_RETURN(Tx tx, db_->TxById(id));
    for (const TxEntry& e : tx.entries) {
      if (e.key.size() < 3 || e.key[0] != kKvPrefix || e.key[1] != kUserPrefix) continue;
      IMMUDB_ASSIGN_OR_RETURN(std::string value, db_->ReadValue(e));
      if (value.empty() || value[0] != kPlainValue) {
        return Status::Corruption("systemdb tx " + std::to_string(id) + ": bad user value");
      }
      auto rec = Decode(std::string_view(value).substr(1));
      if (!rec.ok()) return rec.status().WithPrefix("systemdb tx " + std::to_string(id));
      users[rec->username] = std::move(rec).value();
    }
  }
  std::lock_guard<std::mutex> l(mu_);
  users_ = std::move(users);
  return Status::OK();
}

Result<UserRecord> UserStore::Get(const std::string& username) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = users_.find(username);
  if (it == users_.end()) return Status::NotFound("user " + username + " not found");
  return it->second;
}

Result<UserStore::Rights> UserStore::RightsOn(const std::string& username,
                                              const std::string& db) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = users_.find(username);
  if (it == users_.end()) return Status::NotFound("user " + username + " not found");
  const UserRecord& u = it->second;
  Rights r;
  r.active = u.active;
  r.sysadmin = u.IsSysAdmin();
  auto p = u.permissions.find(db);
  if (p != u.permissions.end()) r.level = p->second;
  return r;
}

bool UserStore::Exists(const std::string& username) const {
  std::lock_guard<std::mutex> l(mu_);
  return users_.count(username) > 0;
}

std::vector<UserRecord> UserStore::List() const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<UserRecord> out;
  for (const auto& [name, u] : users_) out.push_back(u);
  return out;
}

Status UserStore::Put(const UserRecord& user) {
  // Serialize writers so the cache follows commit order.
  std::lock_guard<std::mutex> l(mu_);
  // The same stored entry as a KV Set: key 0x00 0x01 username, value 0x00 JSON.
  std::vector<KeyValue> kvs(1);
  kvs[0].key = UserKey(user.username);
  kvs[0].value = Encode(user);
  auto hdr = db_->Set(kvs, /*no_wait=*/false);
  if (!hdr.ok()) return hdr.status();
  users_[user.username] = user;
  return Status::OK();
}

}  // namespace immudb::server
