// SessionManager: the open sessions of OpenSession (wire-api.md §5.4). A
// session id is URL-safe base64 (with '=' padding) of 32 random bytes and
// maps to a user, a database and its activity times. A guard thread closes
// sessions idle longer than the session timeout or older than the max age.
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "immudb/result.h"
#include "server/errors.h"

namespace immudb::server {

struct SessionOptions {
  size_t max_sessions = 100;
  std::chrono::milliseconds timeout{2 * 60 * 1000};
  std::chrono::milliseconds max_age{0};  // 0 = no limit.
  std::chrono::milliseconds guard_interval{60 * 1000};
};

struct SessionInfo {
  std::string username;
  std::string database;
  std::chrono::steady_clock::time_point created;
  std::chrono::steady_clock::time_point last_activity;
};

class SessionManager {
 public:
  // Starts the guard thread.
  explicit SessionManager(const SessionOptions& opts);
  // Stops the guard thread.
  ~SessionManager();
  SessionManager(const SessionManager&) = delete;
  SessionManager& operator=(const SessionManager&) = delete;

  // A new session id. Unknown kErrMaxSessions when the cap is reached.
  Result<std::string> Open(const std::string& username, const std::string& database);
  // The session, with its activity time refreshed. PermissionDenied
  // kErrSessionNotFound if unknown, closed or expired.
  Result<SessionInfo> Touch(const std::string& id);
  // Rebinds the session to `database` (UseDatabase). False if unknown.
  bool SetDatabase(const std::string& id, const std::string& database);
  // False if the session did not exist.
  bool Close(const std::string& id);
  // Closes every session of `username`.
  void CloseUser(const std::string& username);
  size_t Count() const;
  // One guard pass: closes expired sessions and returns how many.
  size_t CloseExpired();
  const SessionOptions& options() const { return opts_; }

 private:
  bool Expired(const SessionInfo& s, std::chrono::steady_clock::time_point now) const;
  void GuardLoop();

  const SessionOptions opts_;
  mutable std::mutex mu_;
  std::map<std::string, SessionInfo> sessions_;  // GUARDED_BY(mu_)
  bool stop_ = false;                            // GUARDED_BY(mu_)
  std::condition_variable cv_;
  std::thread guard_;
};

}  // namespace immudb::server
