// RevisionCache: a bounded map from stored key to its latest indexed revision,
// kept by the indexer so that updating a recently written key needs no RocksDB
// read. It holds only revisions RocksDB already has (the indexer inserts them
// after each batch is written), so a miss is always answered by RocksDB.
//
// The cache is direct-mapped: a key has one slot, chosen by its hash, and a
// newer key with the same slot replaces it. A lookup costs one hash and one
// slot read; a slot keeps the whole key, so a hit is always exact. A slot is
// one 64-byte cache line and holds keys of up to kInlineKey bytes itself
// (longer ones in a buffer of the slot, kept for the next long key), so a
// warm cache allocates nothing and an insert or a lookup of a short key
// touches one cache line. Prefetch loads a key's slot ahead of its Insert.
//
// Thread-safety: none; the indexer thread owns it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

namespace immudb::index {

class RevisionCache {
 public:
  // Keys up to this long live in their slot.
  static constexpr size_t kInlineKey = 32;

  // Room for `capacity` keys, rounded up to a power of two (0: no cache).
  // The slots are anonymous memory, in huge pages when the kernel grants
  // them (util/anon_memory.h): a new key's slot is a random one. When that
  // memory cannot be mapped the cache holds nothing.
  explicit RevisionCache(size_t capacity);
  ~RevisionCache();
  RevisionCache(RevisionCache&& other) noexcept;
  RevisionCache& operator=(RevisionCache&& other) noexcept;

  // The hash the other methods take: a caller that looks a key up, or
  // prefetches its slot, and then inserts it hashes it once.
  static uint64_t HashOf(std::string_view key);
  // The cached latest revision of `key` (hash: HashOf(key)), if any.
  std::optional<uint64_t> Lookup(std::string_view key, uint64_t hash) const;
  std::optional<uint64_t> Lookup(std::string_view key) const { return Lookup(key, HashOf(key)); }
  // Records that `key`'s latest indexed revision is `revision` (>= 1).
  void Insert(std::string_view key, uint64_t hash, uint64_t revision);
  void Insert(std::string_view key, uint64_t revision) { Insert(key, HashOf(key), revision); }
  // Starts loading the slot of the key of `hash` into the cache, for an
  // Insert soon.
  void Prefetch(uint64_t hash) const;
  void Clear();
  size_t capacity() const { return count_; }

 private:
  struct alignas(64) Slot {
    uint64_t hash = 0;
    uint64_t revision = 0;  // 0: empty.
    uint32_t len = 0;
    uint32_t long_capacity = 0;        // Bytes of long_key.
    std::unique_ptr<char[]> long_key;  // The key when len > kInlineKey.
    char inline_key[kInlineKey];

    const char* key() const { return len <= kInlineKey ? inline_key : long_key.get(); }
  };
  static_assert(sizeof(Slot) == 64);

  void Release();

  Slot* slots_ = nullptr;  // count_ slots in MapAnonymous memory.
  size_t count_ = 0;
  size_t mask_ = 0;
};

}  // namespace immudb::index
