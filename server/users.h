// UserStore: the server's users, kept as KV entries in the systemdb database
// so that every change is a verifiable transaction (wire-api.md §5.1).
//
// User key 0x01 ‖ username (stored 0x00 ‖ 0x01 ‖ username), plain value: the
// JSON record (stored 0x00 ‖ JSON). A Get of the user key on systemdb reads
// it. At open every systemdb transaction is read in order and the latest
// record per user wins. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "immudb/database.h"
#include "immudb/result.h"

namespace immudb::server {

// Permission levels (plain numbers on the wire).
inline constexpr uint32_t kPermNone = 0;
inline constexpr uint32_t kPermRead = 1;
inline constexpr uint32_t kPermReadWrite = 2;
inline constexpr uint32_t kPermAdmin = 254;
inline constexpr uint32_t kPermSysAdmin = 255;

inline constexpr char kSysAdminUser[] = "immudb";
inline constexpr char kDefaultAdminPassword[] = "immudb";

struct UserRecord {
  std::string username;
  std::string hashed_password;                  // bcrypt.
  std::map<std::string, uint32_t> permissions;  // database -> level; sysadmin: "*" -> 255.
  bool active = true;
  std::string created_by;
  std::string created_at;  // "2006-01-02 15:04:05.000000000 +0000 UTC" style.

  bool IsSysAdmin() const;
  // Level on `db` (kPermSysAdmin for the sysadmin, kPermNone when none).
  uint32_t PermissionOn(const std::string& db) const;
  // True if the user is admin (254) of at least one database.
  bool IsAdminSomewhere() const;
};

// True for names matching [A-Za-z0-9_]{1,63}.
bool IsValidUsername(const std::string& name);
// Current time in the record's created_at format.
std::string NowTimeString();

class UserStore {
 public:
  // Loads all users from `systemdb` (not owned; must outlive the UserStore).
  // Corruption if a user record does not parse.
  static Result<std::unique_ptr<UserStore>> Open(Database* systemdb);

  // Copy of the record; NotFound if the user does not exist.
  Result<UserRecord> Get(const std::string& username) const;
  // What a call's permission check reads of a user, without copying its
  // record: whether it is active, whether it is the sysadmin, and the level
  // granted on `db` itself (kPermNone when none). NotFound as Get.
  struct Rights {
    bool active = false;
    bool sysadmin = false;
    uint32_t level = kPermNone;
  };
  Result<Rights> RightsOn(const std::string& username, const std::string& db) const;
  bool Exists(const std::string& username) const;
  // All users in name order.
  std::vector<UserRecord> List() const;
  // Writes the record as one systemdb transaction (indexed before it returns)
  // and updates the cache.
  Status Put(const UserRecord& user);

 private:
  explicit UserStore(Database* systemdb) : db_(systemdb) {}
  Status Load();

  Database* db_;
  mutable std::mutex mu_;
  std::map<std::string, UserRecord> users_;  // GUARDED_BY(mu_)
};

}  // namespace immudb::server
