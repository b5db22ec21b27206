// Hash: a 32-byte SHA-256 digest, and the hashing primitives the engine uses.
//
// Sha256 uses OpenSSL's SHA-256 block function, which runs on the SHA-NI
// instructions when the CPU has them. All functions are thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace immudb {

using Hash = std::array<uint8_t, 32>;

inline constexpr size_t kHashSize = 32;

// Incremental SHA-256. Not thread-safe; one per thread or per use.
class Sha256 {
 public:
  Sha256();
  void Update(const void* data, size_t n);
  void Update(std::string_view s) { Update(s.data(), s.size()); }
  void Update(const Hash& h) { Update(h.data(), h.size()); }
  // Finishes and returns the digest; the object must not be used afterwards.
  Hash Final();

 private:
  alignas(8) unsigned char ctx_[128];  // Holds an OpenSSL SHA256_CTX.
};

// SHA-256 of one byte string.
Hash Sha256Of(const void* data, size_t n);
inline Hash Sha256Of(std::string_view s) { return Sha256Of(s.data(), s.size()); }

// H("") = e3b0c442...b855: Alh(0) and the htree root of zero leaves.
const Hash& EmptyHash();
// 32 zero bytes (BlRoot when BlTxID = 0).
const Hash& ZeroHash();

// Merkle leaf hash H(0x00 || d) and node hash H(0x01 || l || r), as used by both
// the per-tx htree and the AHT (proofs.md §2.1, §4.1).
Hash LeafHash(const Hash& d);
Hash NodeHash(const Hash& left, const Hash& right);
// c = first, then c = NodeHash(*lefts[k], c) for k = 0..n-1, each c stored
// at out[k]; returns the last c (first when n = 0). The same as that loop of
// NodeHash calls, faster on a CPU with SHA-NI.
Hash NodeHashChain(const Hash& first, const Hash* const* lefts, size_t n, Hash* out);
// out[0] = LeafHash(d), then NodeHashChain(out[0], lefts, n, out + 1); returns
// the last hash stored.
Hash LeafNodeHashChain(const Hash& d, const Hash* const* lefts, size_t n, Hash* out);

// Lowercase hex, and its inverse (returns false on bad input).
std::string ToHex(const void* data, size_t n);
inline std::string ToHex(const Hash& h) { return ToHex(h.data(), h.size()); }
inline std::string ToHex(std::string_view s) { return ToHex(s.data(), s.size()); }
bool FromHex(std::string_view hex, std::string* out);
bool HashFromHex(std::string_view hex, Hash* out);

}  // namespace immudb
