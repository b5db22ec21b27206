// The key index's memtable. See memtable_rep.h.
//
// Why not RocksDB's skip list: the RocksDB library the project links (the
// distribution's build) has its assertions compiled in, and after every
// insert its skip list checks the new node against both neighbours on every
// level of the list: about 24 key comparisons per record with 10-12 levels,
// which were most of the indexer's CPU. This list is the same structure
// (nodes with 1..12 forward links, each level holding about a quarter of the
// nodes of the level below) without those checks, and each insert starts at
// the last insert of the same record kind, so the indexer's sorted batches
// cost a few comparisons per record.
#include "index/memtable_rep.h"

#include <rocksdb/comparator.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstdint>
#include <cstring>
#include <new>
#include <vector>

#include "index/memtable_filter.h"
#include "util/anon_memory.h"

#ifdef IMMUDB_INDEX_MEMTABLE

namespace rocksdb {
// RocksDB places memtable iterators in its internal arena (not part of its
// public headers) and then only runs their destructors. The arena's
// allocation function is exported; this declares that one member.
class Arena {
 public:
  char* AllocateAligned(size_t bytes, size_t huge_page_size, Logger* logger);
};
}  // namespace rocksdb

namespace immudb::index {

namespace {

constexpr int kMaxHeight = 12;
// Record kinds with their own insert position: the first byte of the key, mod
// kSplices ('H', 'L' and 'M' land apart).
constexpr int kSplices = 8;

// One forward link. A node of height h is h links in a row; the node is
// addressed by its level-0 link (the last one), link i sits i links before
// it, and the entry as RocksDB encoded it follows the level-0 link.
struct Node {
  std::atomic<Node*> next;

  std::atomic<Node*>& Link(int level) { return (this - level)->next; }
  Node* Next(int level) { return Link(level).load(std::memory_order_acquire); }
  const char* Entry() const { return reinterpret_cast<const char*>(this + 1); }
};

// RocksDB's internal key of a bytewise-ordered column family: the user key,
// then 8 bytes (sequence number << 8 | value type, little-endian) ordered
// from the highest down, so a key's newest version comes first.
int CompareInternalKeys(const char* a, size_t a_len, const char* b, size_t b_len) {
  constexpr size_t kTrailer = 8;
  const size_t an = a_len - kTrailer;
  const size_t bn = b_len - kTrailer;
  int r = std::memcmp(a, b, std::min(an, bn));
  if (r != 0) return r;
  if (an != bn) return an < bn ? -1 : 1;
  uint64_t at = 0, bt = 0;
  for (size_t i = kTrailer; i-- > 0;) {
    at = (at << 8) | static_cast<uint8_t>(a[an + i]);
    bt = (bt << 8) | static_cast<uint8_t>(b[bn + i]);
  }
  if (at == bt) return 0;
  return at > bt ? -1 : 1;
}

// The internal key of a memtable entry: a varint32 length, then the key.
const char* EntryKey(const char* entry, size_t* len) {
  const auto* p = reinterpret_cast<const uint8_t*>(entry);
  uint32_t n = 0;
  for (int shift = 0; shift <= 28; shift += 7) {
    const uint8_t b = *p++;
    n |= static_cast<uint32_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) break;
  }
  *len = n;
  return reinterpret_cast<const char*>(p);
}

class IndexSkipList : public rocksdb::MemTableRep {
 public:
  // `bytewise`: the column family orders user keys bytewise (RocksDB's
  // default, the index's), so entries are compared here instead of through
  // RocksDB's comparator objects (two virtual calls and a length decode per
  // comparison, most of an insert's cost).
  //
  // Nodes live in chunks of `pool` (back to it when the list is freed), but
  // for nodes over a quarter of a chunk, which take RocksDB's allocator.
  // `filter_bytes` > 0 (bytewise only): a filter of the stored keys of the
  // list's 'L' and 'H' records answers point lookups of absent keys.
  IndexSkipList(const KeyComparator& cmp, rocksdb::Allocator* allocator, bool bytewise,
                std::shared_ptr<MemTableChunkPool> pool, size_t filter_bytes)
      : MemTableRep(allocator), cmp_(cmp), bytewise_(bytewise), pool_(std::move(pool)) {
    if (bytewise_ && filter_bytes > 0) {
      // The filter at the start of the first chunk (memory that is already
      // resident, in a huge page when chunks are), else in its own.
      const size_t bytes = MemTableKeyFilter::SizeFor(filter_bytes);
      char* c = bytes <= pool_->chunk_bytes() / 2 ? pool_->Acquire() : nullptr;
      if (c != nullptr) {
        chunks_.push_back(c);
        filter_ = std::make_unique<MemTableKeyFilter>(bytes, c);
        chunk_next_ = c + bytes;
        chunk_left_ = pool_->chunk_bytes() - bytes;
      } else {
        filter_ = std::make_unique<MemTableKeyFilter>(bytes);
      }
      memory_.store(filter_->bytes(), std::memory_order_relaxed);
    }
    // The head from RocksDB's allocator: a memtable takes no chunk until its
    // first insert.
    head_ = NewNode(kMaxHeight, 0, nullptr, /*from_chunks=*/false);
  }

  ~IndexSkipList() override {
    for (char* c : chunks_) pool_->Release(c);
  }

  rocksdb::KeyHandle Allocate(const size_t len, char** buf) override {
    const int height = RandomHeight();
    Node* x = NewNode(height, len, buf);
    // Until Insert links the node, its level-0 link holds the height.
    x->Link(0).store(reinterpret_cast<Node*>(static_cast<uintptr_t>(height)),
                     std::memory_order_relaxed);
    return x;
  }

  void Insert(rocksdb::KeyHandle handle) override { InsertKey(handle); }

  bool InsertKey(rocksdb::KeyHandle handle) override {
    Node* x = static_cast<Node*>(handle);
    const int height =
        static_cast<int>(reinterpret_cast<uintptr_t>(x->Link(0).load(std::memory_order_relaxed)));
    const rocksdb::Slice key = cmp_.decode_key(x->Entry());
    uint64_t h;
    if (filter_ != nullptr && FilterHash(key, &h)) filter_->Add(h);
    Splice& s = splices_[key.empty() ? 0 : static_cast<uint8_t>(key[0]) % kSplices];
    int max_h = max_height_.load(std::memory_order_relaxed);
    if (height > max_h) {
      // Readers that see the new height find empty links at the head.
      max_height_.store(height, std::memory_order_relaxed);
      max_h = height;
    }
    for (int i = s.height; i < max_h; i++) s.prev[i] = head_;
    s.height = max_h;

    // s.prev[i] is a node at level i, and s.prev[i+1] <= s.prev[i] (or the
    // head). Find the lowest level whose entry and its successor bracket the
    // key: below it, search down from there; above it, move forward from the
    // splice's entries (before the key, as they are <= the bracketing one).
    int top = 0;
    for (; top < max_h; top++) {
      Node* p = s.prev[top];
      if (p != head_ && Compare(p->Entry(), key) >= 0) continue;
      Node* n = p->Next(top);
      if (n == nullptr || Compare(n->Entry(), key) > 0) break;
    }
    Node* pred[kMaxHeight];
    Node* succ = nullptr;
    if (top == max_h) {
      top = max_h - 1;
      Node* p = s.prev[top];
      pred[top] = (p == head_ || Compare(p->Entry(), key) < 0) ? p : head_;
    } else {
      pred[top] = s.prev[top];
    }
    int last_cmp = 1;
    pred[top] = Forward(pred[top], top, key, &succ, &last_cmp);
    for (int i = top - 1; i >= 0; i--) pred[i] = Forward(pred[i + 1], i, key, &succ, &last_cmp);
    // succ and last_cmp are now those of level 0.
    if (succ != nullptr && last_cmp == 0) return false;  // Already present.
    for (int i = top + 1; i < height; i++) {
      Node* ignored_succ;
      int ignored_cmp;
      pred[i] = Forward(s.prev[i], i, key, &ignored_succ, &ignored_cmp);
    }

    // Link bottom-up; a reader that reaches x on a level finds its links on
    // that level and below already set.
    for (int i = 0; i < height; i++) {
      x->Link(i).store(pred[i]->Link(i).load(std::memory_order_relaxed), std::memory_order_relaxed);
      pred[i]->Link(i).store(x, std::memory_order_release);
    }
    for (int i = 0; i < height; i++) s.prev[i] = x;
    for (int i = height; i <= top; i++) s.prev[i] = pred[i];
    return true;
  }

  bool Contains(const char* entry) const override {
    Node* x = Seek(cmp_.decode_key(entry));
    return x != nullptr && Compare(x->Entry(), cmp_.decode_key(entry)) == 0;
  }

  // The filter and the chunks' bytes up to the last node (the unused end of
  // the current chunk is not counted, so that the memtable fills its last
  // chunk before RocksDB flushes it); RocksDB adds what its own allocator
  // holds (the head, large nodes). Read by RocksDB's flush decision after each
  // write and by other threads for memory properties.
  size_t ApproximateMemoryUsage() override { return memory_.load(std::memory_order_relaxed); }

  class Iterator : public rocksdb::MemTableRep::Iterator {
   public:
    explicit Iterator(const IndexSkipList* list) : list_(list) {}
    // `point_lookup`: the iterator of a point lookup, which reads only
    // entries of the key it seeks; a seek of a key the filter rules out
    // finds nothing.
    void SetList(const IndexSkipList* list, bool point_lookup) {
      list_ = list;
      node_ = nullptr;
      point_lookup_ = point_lookup;
    }
    bool Valid() const override { return node_ != nullptr; }
    const char* key() const override { return node_->Entry(); }
    void Next() override { node_ = node_->Next(0); }
    void Prev() override { node_ = list_->Before(list_->cmp_.decode_key(node_->Entry())); }
    void Seek(const rocksdb::Slice& internal_key, const char* memtable_key) override {
      const rocksdb::Slice target =
          memtable_key != nullptr ? list_->cmp_.decode_key(memtable_key) : internal_key;
      if (point_lookup_ && !list_->MayContain(target)) {
        node_ = nullptr;
        return;
      }
      node_ = list_->Seek(target);
    }
    void SeekForPrev(const rocksdb::Slice& internal_key, const char* memtable_key) override {
      const rocksdb::Slice target =
          memtable_key != nullptr ? list_->cmp_.decode_key(memtable_key) : internal_key;
      // The last entry <= target.
      node_ = list_->Seek(target);
      if (node_ == nullptr || list_->Compare(node_->Entry(), target) > 0) {
        node_ = list_->Before(target);
      }
    }
    void SeekToFirst() override { node_ = list_->head_->Next(0); }
    void SeekToLast() override { node_ = list_->Last(); }

   private:
    const IndexSkipList* list_;
    Node* node_ = nullptr;
    bool point_lookup_ = false;
  };

  rocksdb::MemTableRep::Iterator* GetIterator(rocksdb::Arena* arena) override {
    if (arena == nullptr) return new Iterator(this);
    void* mem = arena->AllocateAligned(sizeof(Iterator), 0, nullptr);
    return new (mem) Iterator(this);
  }

  // RocksDB's MemTableRep::Get (point lookups: Get, MultiGet) is the only
  // caller without an arena, and it neither deletes the iterator nor keeps it
  // past the call: it gets a per-thread one, which first asks the filter.
  // (RocksDB 7.8's other callers, in-place updates and merges, are not used
  // by the index.)
  rocksdb::MemTableRep::Iterator* GetDynamicPrefixIterator(rocksdb::Arena* arena) override {
    if (arena != nullptr) return GetIterator(arena);
    thread_local Iterator lookup(nullptr);
    lookup.SetList(this, /*point_lookup=*/true);
    return &lookup;
  }

 private:
  static constexpr size_t kTrailer = 8;  // Sequence number and type.

  // The filter's hash of an internal key's stored key; false for keys the
  // filter does not hold (not an 'L' or 'H' record).
  static bool FilterHash(const rocksdb::Slice& internal_key, uint64_t* h) {
    std::string_view stored;
    if (internal_key.size() < kTrailer ||
        !StoredKeyOfRecordKey(std::string_view(internal_key.data(), internal_key.size() - kTrailer),
                              &stored)) {
      return false;
    }
    *h = MemTableKeyHash(stored);
    return true;
  }

  // False when no entry of the internal key's user key is in the list.
  bool MayContain(const rocksdb::Slice& internal_key) const {
    uint64_t h;
    return filter_ == nullptr || !FilterHash(internal_key, &h) || filter_->MayContain(h);
  }

  // Compares the entry's internal key with `key`, as RocksDB's comparator.
  int Compare(const char* entry, const rocksdb::Slice& key) const {
    if (!bytewise_) return cmp_(entry, key);
    size_t len;
    const char* k = EntryKey(entry, &len);
    return CompareInternalKeys(k, len, key.data(), key.size());
  }

  struct Splice {
    int height = 0;
    Node* prev[kMaxHeight];
  };

  // `bytes` aligned for a Node: from the current chunk, a new one, or
  // (large nodes, no memory for a chunk) RocksDB's allocator.
  char* AllocateAligned(size_t bytes, bool from_chunks) {
    bytes = (bytes + alignof(Node) - 1) & ~(alignof(Node) - 1);
    if (from_chunks && bytes <= pool_->chunk_bytes() / 4) {
      size_t used = bytes;
      if (bytes > chunk_left_) {
        if (char* c = pool_->Acquire()) {
          used += chunk_left_;  // The rest of the previous chunk stays unused.
          chunks_.push_back(c);
          chunk_next_ = c;
          chunk_left_ = pool_->chunk_bytes();
        }
      }
      if (bytes <= chunk_left_) {
        char* p = chunk_next_;
        chunk_next_ += bytes;
        chunk_left_ -= bytes;
        // One writer: no read-modify-write instruction needed.
        memory_.store(memory_.load(std::memory_order_relaxed) + used, std::memory_order_relaxed);
        return p;
      }
    }
    char* raw = nullptr;
    MemTableRep::Allocate(bytes + alignof(Node) - 1, &raw);
    const uintptr_t a =
        (reinterpret_cast<uintptr_t>(raw) + alignof(Node) - 1) & ~(alignof(Node) - 1);
    return reinterpret_cast<char*>(a);
  }

  Node* NewNode(int height, size_t entry_len, char** buf, bool from_chunks = true) {
    constexpr size_t kLink = sizeof(Node);
    char* p = AllocateAligned(kLink * height + entry_len, from_chunks);
    for (int i = 0; i < height; i++) new (p + i * kLink) Node{nullptr};
    Node* x = reinterpret_cast<Node*>(p + (height - 1) * kLink);
    if (buf != nullptr) *buf = const_cast<char*>(x->Entry());
    return x;
  }

  int RandomHeight() {
    int h = 1;
    // xorshift64; two bits per level: each level has 1/4 of the one below.
    rnd_ ^= rnd_ << 13;
    rnd_ ^= rnd_ >> 7;
    rnd_ ^= rnd_ << 17;
    uint64_t bits = rnd_;
    while (h < kMaxHeight && (bits & 3) == 0) {
      h++;
      bits >>= 2;
    }
    return h;
  }

  // From p (before key) on `level`, the last node before key; *succ is the
  // node after it and *c the comparison of *succ with key.
  Node* Forward(Node* p, int level, const rocksdb::Slice& key, Node** succ, int* c) const {
    while (true) {
      Node* n = p->Next(level);
      if (n == nullptr) {
        *succ = nullptr;
        *c = 1;
        return p;
      }
      const int r = Compare(n->Entry(), key);
      if (r >= 0) {
        *succ = n;
        *c = r;
        return p;
      }
      p = n;
    }
  }

  // The first node >= key, or nullptr.
  Node* Seek(const rocksdb::Slice& key) const {
    Node* p = head_;
    Node* succ = nullptr;
    int c;
    for (int i = max_height_.load(std::memory_order_relaxed) - 1; i >= 0; i--) {
      p = Forward(p, i, key, &succ, &c);
    }
    return succ;
  }

  // The last node < key, or nullptr.
  Node* Before(const rocksdb::Slice& key) const {
    Node* p = head_;
    Node* succ;
    int c;
    for (int i = max_height_.load(std::memory_order_relaxed) - 1; i >= 0; i--) {
      p = Forward(p, i, key, &succ, &c);
    }
    return p == head_ ? nullptr : p;
  }

  Node* Last() const {
    Node* p = head_;
    for (int i = max_height_.load(std::memory_order_relaxed) - 1; i >= 0; i--) {
      for (Node* n = p->Next(i); n != nullptr; n = p->Next(i)) p = n;
    }
    return p == head_ ? nullptr : p;
  }

  const KeyComparator& cmp_;
  const bool bytewise_;
  const std::shared_ptr<MemTableChunkPool> pool_;
  std::unique_ptr<MemTableKeyFilter> filter_;  // Null: no filter.
  std::vector<char*> chunks_;                  // Writer only (and the destructor).
  char* chunk_next_ = nullptr;                 // Writer only.
  size_t chunk_left_ = 0;                      // Writer only.
  std::atomic<size_t> memory_{0};              // ApproximateMemoryUsage.
  Node* head_;
  std::atomic<int> max_height_{1};
  uint64_t rnd_ = 0x9e3779b97f4a7c15ULL;  // Writer only.
  Splice splices_[kSplices];              // Writer only.
};

class IndexMemTableFactory : public rocksdb::MemTableRepFactory {
 public:
  IndexMemTableFactory(bool bytewise, std::shared_ptr<MemTableChunkPool> pool, size_t filter_bytes)
      : bytewise_(bytewise), pool_(std::move(pool)), filter_bytes_(filter_bytes) {}
  rocksdb::MemTableRep* CreateMemTableRep(const rocksdb::MemTableRep::KeyComparator& cmp,
                                          rocksdb::Allocator* allocator,
                                          const rocksdb::SliceTransform*,
                                          rocksdb::Logger*) override {
    return new IndexSkipList(cmp, allocator, bytewise_, pool_, filter_bytes_);
  }
  const char* Name() const override { return "ImmudbIndexSkipList"; }
  bool IsInsertConcurrentlySupported() const override { return false; }
  bool CanHandleDuplicatedKey() const override { return true; }

 private:
  const bool bytewise_;
  const std::shared_ptr<MemTableChunkPool> pool_;
  const size_t filter_bytes_;
};

}  // namespace

std::shared_ptr<MemTableChunkPool> NewIndexMemTablePool(size_t write_buffer_bytes) {
  // RocksDB's own arena block for this buffer size (1/8 of it, at most 1
  // MiB), or a huge page when an eighth of the buffer holds one.
  const size_t chunk = write_buffer_bytes / 8 >= kHugePageBytes
                           ? kHugePageBytes
                           : std::clamp<size_t>(write_buffer_bytes / 8, 4096, 1 << 20);
  const size_t per_memtable = (write_buffer_bytes + chunk - 1) / chunk;
  return std::make_shared<MemTableChunkPool>(chunk, kIndexMemTables * (per_memtable + 1));
}

std::shared_ptr<rocksdb::MemTableRepFactory> NewIndexMemTableFactory(
    const rocksdb::Comparator* user_comparator, size_t write_buffer_bytes,
    std::shared_ptr<MemTableChunkPool> pool) {
  if (pool == nullptr) pool = NewIndexMemTablePool(write_buffer_bytes);
  return std::make_shared<IndexMemTableFactory>(user_comparator == rocksdb::BytewiseComparator(),
                                                std::move(pool),
                                                write_buffer_bytes / kFilterFraction);
}

}  // namespace immudb::index

#else  // Another RocksDB: its own skip list (memtable_rep.h).

namespace immudb::index {

std::shared_ptr<MemTableChunkPool> NewIndexMemTablePool(size_t) { return nullptr; }

std::shared_ptr<rocksdb::MemTableRepFactory> NewIndexMemTableFactory(
    const rocksdb::Comparator*, size_t, std::shared_ptr<MemTableChunkPool>) {
  return nullptr;
}

}  // namespace immudb::index

#endif
