// TokenManager: opaque login tokens and the logged-in users table
// (wire-api.md §5.2). A token is "immt." + base64url(32 random bytes); it
// maps to the user, the selected database ("" = none) and an expiry time.
// All tokens live in memory only, so a restart logs everybody out.
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "immudb/result.h"

namespace immudb::server {

struct TokenInfo {
  std::string username;
  std::string database;  // "" when no database is selected.
  std::chrono::system_clock::time_point expires_at;
};

class TokenManager {
 public:
  explicit TokenManager(std::chrono::milliseconds lifetime) : lifetime_(lifetime) {}

  // Records a login of `username` (one more in the logged-in table) and
  // returns a new token bound to `database`.
  std::string Login(const std::string& username, const std::string& database);
  // A new token for an already logged-in user (UseDatabase).
  std::string Reissue(const std::string& username, const std::string& database);
  // Resolves an `authorization` header value ("Bearer " prefix optional).
  // Errors (as immudb's texts): empty -> Unknown "not logged in"; malformed ->
  // Internal "invalid token"; unknown token or user logged out -> Unknown
  // "not logged in"; expired -> PermissionDenied "token has expired".
  Result<TokenInfo> Resolve(std::string_view header) const;
  // One logout of the token's user; at the last one all its tokens are dropped.
  void Logout(std::string_view token);
  // Drops every token of `username` (password or permission change).
  void DropUser(const std::string& username);

 private:
  std::string NewToken();

  const std::chrono::milliseconds lifetime_;
  mutable std::mutex mu_;
  std::map<std::string, TokenInfo, std::less<>> tokens_;  // GUARDED_BY(mu_)
  std::map<std::string, int> logged_in_count_;            // GUARDED_BY(mu_)
};

// Strips an optional "Bearer " prefix.
std::string_view StripBearer(std::string_view header);

}  // namespace immudb::server
