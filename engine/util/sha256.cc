// SHA-256 on OpenSSL's low-level interface: it avoids the EVP fetch cost on
// every small hash and still dispatches to the SHA-NI block function.
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/sha.h>

#include <cstring>

#include "immudb/hash.h"

namespace immudb {

static_assert(sizeof(SHA256_CTX) <= 128, "Sha256::ctx_ too small");

Sha256::Sha256() { SHA256_Init(reinterpret_cast<SHA256_CTX*>(ctx_)); }

void Sha256::Update(const void* data, size_t n) {
  SHA256_Update(reinterpret_cast<SHA256_CTX*>(ctx_), data, n);
}

Hash Sha256::Final() {
  Hash h;
  SHA256_Final(h.data(), reinterpret_cast<SHA256_CTX*>(ctx_));
  return h;
}

Hash Sha256Of(const void* data, size_t n) {
  // Not OpenSSL's one-shot SHA256(): in OpenSSL 3 it fetches the algorithm
  // through EVP on every call, which costs more than hashing a small input.
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, data, n);
  Hash h;
  SHA256_Final(h.data(), &ctx);
  return h;
}

const Hash& EmptyHash() {
  static const Hash kEmpty = Sha256Of("", 0);
  return kEmpty;
}

const Hash& ZeroHash() {
  static const Hash kZero{};
  return kZero;
}

Hash LeafHash(const Hash& d) {
  uint8_t buf[1 + kHashSize];
  buf[0] = 0x00;
  std::memcpy(buf + 1, d.data(), kHashSize);
  Sha256 s;
  s.Update(buf, sizeof(buf));
  return s.Final();
}

Hash NodeHash(const Hash& left, const Hash& right) {
  uint8_t buf[1 + 2 * kHashSize];
  buf[0] = 0x01;
  std::memcpy(buf + 1, left.data(), kHashSize);
  std::memcpy(buf + 1 + kHashSize, right.data(), kHashSize);
  Sha256 s;
  s.Update(buf, sizeof(buf));
  return s.Final();
}

std::string ToHex(const void* data, size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  const auto* p = static_cast<const uint8_t*>(data);
  std::string out(2 * n, '0');
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = kDigits[p[i] >> 4];
    out[2 * i + 1] = kDigits[p[i] & 0xf];
  }
  return out;
}

static int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool FromHex(std::string_view hex, std::string* out) {
  if (hex.size() % 2 != 0) return false;
  std::string r(hex.size() / 2, '\0');
  for (size_t i = 0; i < r.size(); i++) {
    int hi = HexVal(hex[2 * i]), lo = HexVal(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    r[i] = static_cast<char>((hi << 4) | lo);
  }
  *out = std::move(r);
  return true;
}

bool HashFromHex(std::string_view hex, Hash* out) {
  std::string s;
  if (hex.size() != 2 * kHashSize || !FromHex(hex, &s)) return false;
  std::memcpy(out->data(), s.data(), kHashSize);
  return true;
}

}  // namespace immudb
