#include "server/sessions.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdlib>

namespace immudb::server {
namespace {

constexpr size_t kSessionIdRandomBytes = 32;

std::string NewSessionId() {
  unsigned char rnd[kSessionIdRandomBytes];
  if (RAND_bytes(rnd, sizeof(rnd)) != 1) std::abort();  // No entropy: cannot run safely.
  unsigned char b64[4 * ((kSessionIdRandomBytes + 2) / 3) + 1];
  const int n = EVP_EncodeBlock(b64, rnd, sizeof(rnd));
  std::string id(reinterpret_cast<char*>(b64), static_cast<size_t>(n));
  for (char& c : id) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return id;
}

}  // namespace

SessionManager::SessionManager(const SessionOptions& opts) : opts_(opts) {
  guard_ = std::thread([this] { GuardLoop(); });
}

SessionManager::~SessionManager() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  guard_.join();
}

Result<std::string> SessionManager::Open(const std::string& username, const std::string& database) {
  const auto now = std::chrono::steady_clock::now();
  std::string id = NewSessionId();
  std::lock_guard<std::mutex> l(mu_);
  if (sessions_.size() >= opts_.max_sessions) return Status(StatusCode::kUnknown, kErrMaxSessions);
  sessions_[id] = SessionInfo{username, database, now, now};
  return id;
}

bool SessionManager::Expired(const SessionInfo& s,
                             std::chrono::steady_clock::time_point now) const {
  if (now - s.last_activity > opts_.timeout) return true;
  return opts_.max_age.count() > 0 && now - s.created > opts_.max_age;
}

Result<SessionInfo> SessionManager::Touch(const std::string& id) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> l(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return Status::PermissionDenied(kErrSessionNotFound);
  if (Expired(it->second, now)) {
    sessions_.erase(it);
    return Status::PermissionDenied(kErrSessionNotFound);
  }
  it->second.last_activity = now;
  return it->second;
}

bool SessionManager::SetDatabase(const std::string& id, const std::string& database) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return false;
  it->second.database = database;
  return true;
}

bool SessionManager::Close(const std::string& id) {
  std::lock_guard<std::mutex> l(mu_);
  return sessions_.erase(id) > 0;
}

void SessionManager::CloseUser(const std::string& username) {
  std::lock_guard<std::mutex> l(mu_);
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    it = it->second.username == username ? sessions_.erase(it) : std::next(it);
  }
}

size_t SessionManager::Count() const {
  std::lock_guard<std::mutex> l(mu_);
  return sessions_.size();
}

size_t SessionManager::CloseExpired() {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> l(mu_);
  size_t closed = 0;
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (Expired(it->second, now)) {
      it = sessions_.erase(it);
      ++closed;
    } else {
      ++it;
    }
  }
  return closed;
}

void SessionManager::GuardLoop() {
  std::unique_lock<std::mutex> l(mu_);
  while (!stop_) {
    cv_.wait_for(l, opts_.guard_interval, [this] { return stop_; });
    if (stop_) break;
    l.unlock();
    CloseExpired();
    l.lock();
  }
}

}  // namespace immudb::server
