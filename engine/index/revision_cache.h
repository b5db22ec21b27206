// RevisionCache: a bounded map from stored key to its latest indexed revision,
// kept by the indexer so that updating a recently written key needs no RocksDB
// read. It holds only revisions RocksDB already has (the indexer inserts them
// after each batch is written), so a miss is always answered by RocksDB.
//
// The cache is direct-mapped: a key has one slot, chosen by its hash, and a
// newer key with the same slot replaces it. A lookup costs one hash and one
// slot read; a slot keeps the whole key, so a hit is always exact. Slot
// strings keep their buffers, so a warm cache allocates nothing.
//
// Thread-safety: none; the indexer thread owns it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace immudb::index {

class RevisionCache {
 public:
  // Room for `capacity` keys, rounded up to a power of two (0: no cache).
  explicit RevisionCache(size_t capacity);

  // The cached latest revision of `key`, if any.
  std::optional<uint64_t> Lookup(std::string_view key) const;
  // Records that `key`'s latest indexed revision is `revision` (>= 1).
  void Insert(std::string_view key, uint64_t revision);
  void Clear();
  size_t capacity() const { return slots_.size(); }

 private:
  struct Slot {
    uint64_t hash = 0;
    uint64_t revision = 0;  // 0: empty.
    std::string key;
  };
  static uint64_t HashOf(std::string_view key);

  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

}  // namespace immudb::index
