// SHA-256. With SHA-NI (util/sha256_ni.h) hashing runs on our own block
// function, which avoids OpenSSL's per-call bookkeeping on the many short
// inputs of the hash trees; otherwise OpenSSL's low-level interface is used
// (not its one-shot SHA256(), which in OpenSSL 3 fetches the algorithm through
// EVP on every call).
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/sha.h>

#include <algorithm>
#include <cstring>

#include "immudb/hash.h"
#include "util/sha256_ni.h"

namespace immudb {

namespace {

// The incremental state when SHA-NI is used.
struct NiCtx {
  uint32_t st[8];
  uint8_t buf[64];
  uint64_t len;  // Bytes hashed so far.
};

static_assert(sizeof(SHA256_CTX) <= 128, "Sha256::ctx_ too small");
static_assert(sizeof(NiCtx) <= 128, "Sha256::ctx_ too small");

const bool kNi = sha_ni::Available();

}  // namespace

Sha256::Sha256() {
  if (kNi) {
    auto* c = reinterpret_cast<NiCtx*>(ctx_);
    // The initial state: the hash of nothing before padding.
    static const uint32_t kH0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    std::memcpy(c->st, kH0, sizeof(kH0));
    c->len = 0;
  } else {
    SHA256_Init(reinterpret_cast<SHA256_CTX*>(ctx_));
  }
}

void Sha256::Update(const void* data, size_t n) {
  if (!kNi) {
    SHA256_Update(reinterpret_cast<SHA256_CTX*>(ctx_), data, n);
    return;
  }
  auto* c = reinterpret_cast<NiCtx*>(ctx_);
  const auto* p = static_cast<const uint8_t*>(data);
  size_t used = c->len % 64;
  c->len += n;
  if (used > 0) {
    const size_t take = n < 64 - used ? n : 64 - used;
    std::memcpy(c->buf + used, p, take);
    p += take;
    n -= take;
    used += take;
    if (used < 64) return;
    sha_ni::Compress(c->st, c->buf, 1);
  }
  if (n >= 64) {
    sha_ni::Compress(c->st, p, n / 64);
    p += n / 64 * 64;
    n %= 64;
  }
  std::memcpy(c->buf, p, n);
}

Hash Sha256::Final() {
  Hash h;
  if (!kNi) {
    SHA256_Final(h.data(), reinterpret_cast<SHA256_CTX*>(ctx_));
    return h;
  }
  auto* c = reinterpret_cast<NiCtx*>(ctx_);
  const uint64_t bits = c->len * 8;
  size_t used = c->len % 64;
  c->buf[used++] = 0x80;
  if (used > 56) {
    std::memset(c->buf + used, 0, 64 - used);
    sha_ni::Compress(c->st, c->buf, 1);
    used = 0;
  }
  std::memset(c->buf + used, 0, 56 - used);
  for (int i = 0; i < 8; i++) c->buf[63 - i] = static_cast<uint8_t>(bits >> (8 * i));
  sha_ni::Compress(c->st, c->buf, 1);
  for (int i = 0; i < 8; i++) {
    h[4 * i] = static_cast<uint8_t>(c->st[i] >> 24);
    h[4 * i + 1] = static_cast<uint8_t>(c->st[i] >> 16);
    h[4 * i + 2] = static_cast<uint8_t>(c->st[i] >> 8);
    h[4 * i + 3] = static_cast<uint8_t>(c->st[i]);
  }
  return h;
}

Hash Sha256Of(const void* data, size_t n) {
  Hash h;
  if (kNi) {
    sha_ni::Hash(data, n, h.data());
    return h;
  }
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, data, n);
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
  return Sha256Of(buf, sizeof(buf));
}

Hash NodeHash(const Hash& left, const Hash& right) {
  uint8_t buf[1 + 2 * kHashSize];
  buf[0] = 0x01;
  std::memcpy(buf + 1, left.data(), kHashSize);
  std::memcpy(buf + 1 + kHashSize, right.data(), kHashSize);
  return Sha256Of(buf, sizeof(buf));
}

namespace {

// The SHA-NI chains take plain pointers, this many at a time.
constexpr size_t kChainStep = 64;

// NodeHashChain for n <= kChainStep; with leaf, out[0] is LeafHash(first)
// and the nodes start at out[1].
Hash ChainStep(const Hash& first, bool leaf, const Hash* const* lefts, size_t n, Hash* out) {
  static_assert(sizeof(Hash) == kHashSize);
  const uint8_t* l[kChainStep];
  for (size_t k = 0; k < n; k++) l[k] = lefts[k]->data();
  // out[] is an array of Hash, std::array<uint8_t, 32>: its bytes are contiguous.
  if (leaf) {
    sha_ni::LeafNodeChain(first.data(), l, n, out[0].data());
  } else {
    sha_ni::NodeChain(first.data(), l, n, out[0].data());
  }
  return out[leaf ? n : n - 1];
}

}  // namespace

Hash NodeHashChain(const Hash& first, const Hash* const* lefts, size_t n, Hash* out) {
  if (n == 0) return first;
  if (!kNi) {
    Hash c = first;
    for (size_t k = 0; k < n; k++) out[k] = c = NodeHash(*lefts[k], c);
    return c;
  }
  Hash c = first;
  for (size_t done = 0; done < n;) {
    const size_t m = std::min(kChainStep, n - done);
    c = ChainStep(c, false, lefts + done, m, out + done);
    done += m;
  }
  return c;
}

Hash LeafNodeHashChain(const Hash& d, const Hash* const* lefts, size_t n, Hash* out) {
  if (!kNi) {
    out[0] = LeafHash(d);
    return NodeHashChain(out[0], lefts, n, out + 1);
  }
  const size_t m = std::min(kChainStep, n);
  const Hash c = ChainStep(d, true, lefts, m, out);
  return m == n ? c : NodeHashChain(c, lefts + m, n - m, out + 1 + m);
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
