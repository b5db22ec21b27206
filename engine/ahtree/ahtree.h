// AHTree: the append-only hash tree over every transaction's Alh (proofs.md
// §4), persisted in an Appendable (docs/format/ahtree.md). Leaf n (1-based)
// stores the digests R(m_d + 1, n) for d = 0..popcount(n-1), which is enough
// to build any root, inclusion or consistency proof with O(log n) reads.
//
// Thread-safety: one writer (Append, Flush, Sync, Truncate, Close externally
// serialized); Size, Root*, and the proof functions are thread-safe and may
// run during an Append, seeing at least the leaves appended before the call.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "immudb/env.h"
#include "immudb/hash.h"
#include "immudb/result.h"

namespace immudb {

struct AHTreeOptions {
  uint64_t segment_size = 512ull << 20;
  size_t write_buffer_size = 1 << 20;
  // Bytes at the end of the files that may not have been synced and so may
  // be torn on open; 0 means one write: write_buffer_size + the largest
  // record. A writer that syncs less often than every write sets it to
  // cover everything it may leave unsynced.
  uint64_t torn_window = 0;
  // Memory for the digests of the upper levels of the tree (every perfect
  // block of 2^h leaves for h at or above a level, at least 4, chosen to
  // fit), so that a proof reads only the records near its leaves. The level
  // rises as the tree grows; 0 keeps no such digests.
  uint64_t block_cache_bytes = 64ull << 20;
};

// One proof for AHTree::Proofs: INCL(i, j), CONS(i, j), or (kLeaf, j = i)
// the one-term list {R(i, i)}, leaf i's hash LeafHash(its Alh).
struct AHTreeProofSpec {
  enum class Kind { kInclusion, kConsistency, kLeaf };
  Kind kind;
  uint64_t i;
  uint64_t j;
};

// Memory held by an AHTree's caches.
struct AHTreeCacheStats {
  uint64_t block_cache_bytes = 0;    // Allocated for the upper levels' digests.
  int block_cache_min_level = 0;     // The lowest level held (64: none).
  uint64_t block_cache_digests = 0;  // Digests held (read or appended).
};

class AHTree {
 public:
  virtual ~AHTree() = default;

  // Opens or creates the tree in `dir`, reading the records of the torn
  // window and O(log n) others. A torn tail (inside the window, the first
  // short or bad record and everything after it) is cut back and the cut
  // synced; a bad record before the window is Corruption naming file and
  // offset (docs/format/ahtree.md).
  static Result<std::unique_ptr<AHTree>> Open(FileSystem* fs, const std::string& dir,
                                              const AHTreeOptions& opts);

  // Appends leaf data `alh`; returns the new size. Not durable until Sync.
  virtual Result<uint64_t> Append(const Hash& alh) = 0;
  virtual uint64_t Size() const = 0;

  // Root(n) = R(1, n). REQUIRES 1 <= n <= Size(), else OutOfRange.
  virtual Result<Hash> RootAt(uint64_t n) const = 0;
  // Root(Size()), for the writer (not thread-safe with Append or Truncate):
  // kept from the last Append, so the next commit's BlRoot costs no lookup.
  // OutOfRange when the tree is empty.
  virtual Result<Hash> LastRoot() const = 0;
  // INCL(i, j) (proofs.md §4.4); REQUIRES 1 <= i <= j <= Size().
  virtual Result<std::vector<Hash>> InclusionProof(uint64_t i, uint64_t j) const = 0;
  // CONS(i, j) (proofs.md §4.6); REQUIRES 1 <= i <= j <= Size().
  virtual Result<std::vector<Hash>> ConsistencyProof(uint64_t i, uint64_t j) const = 0;
  // Several proofs at once, in the order asked, each as the functions above
  // return it; the records they share or that lie close together are read
  // once. Each spec REQUIRES 1 <= i <= j <= Size().
  virtual Result<std::vector<std::vector<Hash>>> Proofs(
      const std::vector<AHTreeProofSpec>& specs) const = 0;
  virtual AHTreeCacheStats CacheStats() const = 0;

  virtual Status Flush() = 0;
  virtual Status Sync() = 0;
  // Sync in two steps, as Appendable's: the writer writes the buffered
  // records out and registers their fsync (FlushForSync); SyncFlushed, on any
  // thread, runs it. Once it returns OK, every leaf appended before the
  // FlushForSync is durable. One SyncFlushed at a time, and not during Sync.
  virtual Status FlushForSync() = 0;
  virtual Status SyncFlushed() = 0;
  // Drops leaves past n (REQUIRES n <= Size()) and syncs the cut.
  virtual Status Truncate(uint64_t n) = 0;
  virtual Status Close() = 0;
};

}  // namespace immudb
