// Transactions: entries, KV metadata, headers and the hashes that chain them
// (proofs.md §1 and §3). Pure value types and pure functions: no I/O.
// Thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "immudb/hash.h"
#include "immudb/result.h"

namespace immudb {

// Per-entry attributes (proofs.md §1.3). Empty when no attribute is set.
struct KVMetadata {
  bool deleted = false;
  std::optional<int64_t> expires_at;  // Unix seconds.
  bool non_indexable = false;

  bool empty() const { return !deleted && !expires_at && !non_indexable; }
  // The attribute bytes, ascending code order; "" when empty (at most 11 bytes).
  std::string Encode() const;
  // The same bytes into out; returns how many (0 to kMaxKVMetadataLen).
  size_t EncodeTo(uint8_t* out) const;
  // Parses Encode()'s output; Corruption on unknown codes, repeats, bad order
  // or truncated payloads.
  static Result<KVMetadata> Decode(std::string_view bytes);
  bool operator==(const KVMetadata&) const = default;
};

inline constexpr size_t kMaxKVMetadataLen = 11;

// Entry digest for a header version (proofs.md §1.4). For version 0 the
// metadata must be empty (InvalidArgument otherwise); versions other than 0
// and 1 are InvalidArgument.
Result<Hash> EntryDigest(uint16_t version, std::string_view key, std::string_view md_bytes,
                         const Hash& hval);

// The three hashes of an entry, the same as Sha256Of(value), EntryDigest
// over it, and LeafHash of the digest (the tx's Eh when the entry is its
// only one; leaf may be null). With SHA-NI and a digest input of up to 87
// bytes before the value hash, they chain in registers. The errors of
// EntryDigest.
Status EntryHashes(uint16_t version, std::string_view key, const KVMetadata& md,
                   std::string_view value, Hash* hval, Hash* digest, Hash* leaf);

// A stored entry of a committed transaction: the stored key, its metadata, the
// hash of the stored value and where that value lives in the value log.
struct TxEntry {
  std::string key;
  KVMetadata md;
  Hash hval{};
  uint32_t vlen = 0;
  uint64_t voff = 0;

  Result<Hash> Digest(uint16_t version) const {
    return EntryDigest(version, key, md.Encode(), hval);
  }
};

// Transaction header (proofs.md §3.1). TxMetadata is never emitted, so the
// metadata length in the version-1 inner hash is always 0.
struct TxHeader {
  uint64_t id = 0;
  int64_t ts = 0;  // Unix seconds.
  uint16_t version = 0;
  uint32_t nentries = 0;
  Hash eh{};
  uint64_t bl_tx_id = 0;
  Hash bl_root{};   // ZeroHash() when bl_tx_id == 0.
  Hash prev_alh{};  // EmptyHash() for tx 1.

  // inner hash (proofs.md §3.3). InvalidArgument for an unsupported version or
  // a version-0 header with more than 65535 entries.
  Result<Hash> Inner() const;
  // Alh = H(u64(id) || prev_alh || inner) (proofs.md §3.4).
  Result<Hash> Alh() const;
  // Both at once (on SHA-NI without leaving registers in between); the same
  // errors as Inner().
  Status InnerAndAlh(Hash* inner, Hash* alh) const;
  bool operator==(const TxHeader&) const = default;
};

// Alh from its parts, for callers that already have the inner hash.
Hash AlhFrom(uint64_t id, const Hash& prev_alh, const Hash& inner);

struct Tx {
  TxHeader header;
  std::vector<TxEntry> entries;
};

// Recomputes the htree root over the entries' digests with header.version.
Result<Hash> ComputeEh(uint16_t version, const std::vector<TxEntry>& entries);

}  // namespace immudb
