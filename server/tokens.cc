#include "server/tokens.h"

#include <openssl/rand.h>

#include <cstdlib>

#include "server/errors.h"

namespace immudb::server {
namespace {

constexpr std::string_view kTokenPrefix = "immt.";
constexpr size_t kTokenRandomBytes = 32;

std::string Base64Url(const unsigned char* p, size_t n) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t buf = 0;
  int bits = 0;
  for (size_t i = 0; i < n; ++i) {
    buf = (buf << 8) | p[i];
    bits += 8;
    while (bits >= 6) {
      out += kAlphabet[(buf >> (bits - 6)) & 63];
      bits -= 6;
    }
  }
  if (bits > 0) out += kAlphabet[(buf << (6 - bits)) & 63];
  return out;
}

bool WellFormed(std::string_view token) {
  if (token.substr(0, kTokenPrefix.size()) != kTokenPrefix) return false;
  std::string_view body = token.substr(kTokenPrefix.size());
  if (body.size() != (kTokenRandomBytes * 8 + 5) / 6) return false;
  // The base64url alphabet, checked without the locale (std::isalnum).
  for (char c : body) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string_view StripBearer(std::string_view header) {
  constexpr std::string_view kBearer = "Bearer ";
  if (header.substr(0, kBearer.size()) == kBearer) header.remove_prefix(kBearer.size());
  return header;
}

std::string TokenManager::NewToken() {
  unsigned char rnd[kTokenRandomBytes];
  if (RAND_bytes(rnd, sizeof(rnd)) != 1) std::abort();  // No entropy: cannot run safely.
  return std::string(kTokenPrefix) + Base64Url(rnd, sizeof(rnd));
}

std::string TokenManager::Login(const std::string& username, const std::string& database) {
  std::string token = NewToken();
  std::lock_guard<std::mutex> l(mu_);
  ++logged_in_count_[username];
  tokens_[token] = TokenInfo{username, database, std::chrono::system_clock::now() + lifetime_};
  return token;
}

std::string TokenManager::Reissue(const std::string& username, const std::string& database) {
  std::string token = NewToken();
  std::lock_guard<std::mutex> l(mu_);
  tokens_[token] = TokenInfo{username, database, std::chrono::system_clock::now() + lifetime_};
  return token;
}

Result<TokenInfo> TokenManager::Resolve(std::string_view header) const {
  std::string_view token = StripBearer(header);
  if (token.empty()) return Status(StatusCode::kUnknown, kErrNotLoggedIn);
  if (!WellFormed(token)) return Status::Internal(kErrInvalidToken);
  std::lock_guard<std::mutex> l(mu_);
  auto it = tokens_.find(token);
  if (it == tokens_.end()) return Status(StatusCode::kUnknown, kErrNotLoggedIn);
  if (std::chrono::system_clock::now() >= it->second.expires_at) {
    return Status::PermissionDenied(kErrTokenExpired);
  }
  return it->second;
}

void TokenManager::Logout(std::string_view header) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = tokens_.find(std::string(StripBearer(header)));
  if (it == tokens_.end()) return;
  const std::string user = it->second.username;
  tokens_.erase(it);
  if (--logged_in_count_[user] > 0) return;
  logged_in_count_.erase(user);
  for (auto t = tokens_.begin(); t != tokens_.end();) {
    t = t->second.username == user ? tokens_.erase(t) : std::next(t);
  }
}

void TokenManager::DropUser(const std::string& username) {
  std::lock_guard<std::mutex> l(mu_);
  logged_in_count_.erase(username);
  for (auto t = tokens_.begin(); t != tokens_.end();) {
    t = t->second.username == username ? tokens_.erase(t) : std::next(t);
  }
}

}  // namespace immudb::server
