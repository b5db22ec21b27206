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
#include <cstdint>
#include <cstring>
#include <new>

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
  IndexSkipList(const KeyComparator& cmp, rocksdb::Allocator* allocator, bool bytewise)
      : MemTableRep(allocator), cmp_(cmp), bytewise_(bytewise) {
    head_ = NewNode(kMaxHeight, 0, nullptr);
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

  size_t ApproximateMemoryUsage() override {
    return 0;  // Nodes live in the memtable's allocator, which RocksDB counts.
  }

  class Iterator : public rocksdb::MemTableRep::Iterator {
   public:
    explicit Iterator(const IndexSkipList* list) : list_(list) {}
    void SetList(const IndexSkipList* list) {
      list_ = list;
      node_ = nullptr;
    }
    bool Valid() const override { return node_ != nullptr; }
    const char* key() const override { return node_->Entry(); }
    void Next() override { node_ = node_->Next(0); }
    void Prev() override { node_ = list_->Before(list_->cmp_.decode_key(node_->Entry())); }
    void Seek(const rocksdb::Slice& internal_key, const char* memtable_key) override {
      node_ = list_->Seek(memtable_key != nullptr ? list_->cmp_.decode_key(memtable_key)
                                                  : internal_key);
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
  };

  rocksdb::MemTableRep::Iterator* GetIterator(rocksdb::Arena* arena) override {
    if (arena == nullptr) return new Iterator(this);
    void* mem = arena->AllocateAligned(sizeof(Iterator), 0, nullptr);
    return new (mem) Iterator(this);
  }

  // RocksDB's MemTableRep::Get (point lookups) is the only caller without an
  // arena, and it neither deletes the iterator nor keeps it past the call: it
  // gets a per-thread one.
  rocksdb::MemTableRep::Iterator* GetDynamicPrefixIterator(rocksdb::Arena* arena) override {
    if (arena != nullptr) return GetIterator(arena);
    thread_local Iterator lookup(nullptr);
    lookup.SetList(this);
    return &lookup;
  }

 private:
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

  Node* NewNode(int height, size_t entry_len, char** buf) {
    constexpr size_t kLink = sizeof(Node);
    char* raw = nullptr;
    MemTableRep::Allocate(kLink * height + entry_len + alignof(Node) - 1, &raw);
    const uintptr_t a =
        (reinterpret_cast<uintptr_t>(raw) + alignof(Node) - 1) & ~(alignof(Node) - 1);
    char* p = reinterpret_cast<char*>(a);
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
  Node* head_;
  std::atomic<int> max_height_{1};
  uint64_t rnd_ = 0x9e3779b97f4a7c15ULL;  // Writer only.
  Splice splices_[kSplices];              // Writer only.
};

class IndexMemTableFactory : public rocksdb::MemTableRepFactory {
 public:
  explicit IndexMemTableFactory(bool bytewise) : bytewise_(bytewise) {}
  rocksdb::MemTableRep* CreateMemTableRep(const rocksdb::MemTableRep::KeyComparator& cmp,
                                          rocksdb::Allocator* allocator,
                                          const rocksdb::SliceTransform*,
                                          rocksdb::Logger*) override {
    return new IndexSkipList(cmp, allocator, bytewise_);
  }
  const char* Name() const override { return "ImmudbIndexSkipList"; }
  bool IsInsertConcurrentlySupported() const override { return false; }
  bool CanHandleDuplicatedKey() const override { return true; }

 private:
  const bool bytewise_;
};

}  // namespace

std::shared_ptr<rocksdb::MemTableRepFactory> NewIndexMemTableFactory(
    const rocksdb::Comparator* user_comparator) {
  return std::make_shared<IndexMemTableFactory>(user_comparator == rocksdb::BytewiseComparator());
}

}  // namespace immudb::index

#else  // Another RocksDB: its own skip list (memtable_rep.h).

namespace immudb::index {

std::shared_ptr<rocksdb::MemTableRepFactory> NewIndexMemTableFactory(const rocksdb::Comparator*) {
  return nullptr;
}

}  // namespace immudb::index

#endif
