#include "server/password.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <memory>

namespace immudb::server {
namespace {
constexpr unsigned long kBcryptCost = 10;
}  // namespace

Result<std::string> HashPassword(std::string_view password) {
  if (password.find('\0') != std::string_view::npos || password.size() > 72) {
    return Status::InvalidArgument("password must be at most 72 bytes without NUL bytes");
  }
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$2b$", kBcryptCost, nullptr, 0, setting, sizeof(setting)) == nullptr) {
    return Status::Internal("crypt_gensalt_rn failed");
  }
  auto data = std::make_unique<crypt_data>();
  std::string pw(password);
  const char* out = crypt_r(pw.c_str(), setting, data.get());
  if (out == nullptr || out[0] == '*') return Status::Internal("bcrypt hashing failed");
  return std::string(out);
}

bool CheckPassword(std::string_view password, const std::string& hash) {
  if (password.find('\0') != std::string_view::npos || hash.empty()) return false;
  auto data = std::make_unique<crypt_data>();
  std::string pw(password);
  const char* out = crypt_r(pw.c_str(), hash.c_str(), data.get());
  if (out == nullptr || out[0] == '*') return false;
  std::string got(out);
  return got.size() == hash.size() && CRYPTO_memcmp(got.data(), hash.data(), got.size()) == 0;
}

Result<std::string> DecodeAdminPassword(const std::string& value) {
  constexpr std::string_view kPrefix = "enc:";
  if (value.compare(0, kPrefix.size(), kPrefix) != 0) return value;
  std::string b64 = value.substr(kPrefix.size());
  std::string out(b64.size() * 3 / 4 + 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(b64.data()),
                          static_cast<int>(b64.size()));
  if (n < 0 || b64.size() % 4 != 0) {
    return Status::InvalidArgument("admin-password: invalid base64 after enc:");
  }
  // EVP_DecodeBlock counts padding bytes as zeros; drop them.
  size_t pad = 0;
  if (!b64.empty() && b64.back() == '=') ++pad;
  if (b64.size() > 1 && b64[b64.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

}  // namespace immudb::server
