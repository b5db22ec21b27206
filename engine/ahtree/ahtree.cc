// AHTree on an Appendable. See ahtree.h, ahtree_format.h and
// docs/format/ahtree.md.

#include "ahtree/ahtree.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <utility>

#include "ahtree/ahtree_format.h"
#include "appendable/appendable.h"
#include "util/coding.h"
#include "util/crc32c.h"

namespace immudb {

// ---- Proof plans (pure) ----

namespace ahtree {

namespace {

enum class Step { kPass, kDescend, kStop };

// The walk INCL and CONS share, from the top of the tree of j leaves down:
// for each set bit h of j - 1, highest first, k is j - 1 with the bits below
// h cleared, the last leaf of the left block [k - 2^h + 1, k] beside the
// leaves k + 1 .. j. visit(j, k, h) passes that block (kPass), descends into
// it (kDescend: j becomes k; the bits of k - 1 below h are all set, so the
// walk goes on with the next h), or ends the walk (kStop).
template <class Visit>
void WalkLeftBlocks(uint64_t j, Visit visit) {
  for (int h = std::bit_width(j - 1) - 1; h >= 0; h--) {
    if (((j - 1) >> h & 1) == 0) continue;
    const uint64_t k = ((j - 1) >> h) << h;
    const Step step = visit(j, k, h);
    if (step == Step::kStop) return;
    if (step == Step::kDescend) j = k;
  }
}

uint64_t BlockFirst(uint64_t k, int h) { return k - (uint64_t{1} << h) + 1; }

}  // namespace

// INCL as a loop: proofs.md writes it as incl(i, k, h) ++ [R(k+1, j)] ++ suffix
// where suffix is the skipped blocks in reverse discovery order. Emitting the
// terms in reverse (discovery order, then the right edge, then the recursion's
// terms) turns the recursion into iteration; one final reverse restores the
// wire order.
void InclusionRanges(uint64_t i, uint64_t j, std::vector<Range>* out) {
  out->clear();
  WalkLeftBlocks(j, [&](uint64_t end, uint64_t k, int h) {
    if (i <= k) {
      out->push_back({k + 1, end});
      return Step::kDescend;
    }
    out->push_back({BlockFirst(k, h), k});
    return Step::kPass;
  });
  std::reverse(out->begin(), out->end());
}

// CONS, unrolled the same way as InclusionRanges.
void ConsistencyRanges(uint64_t i, uint64_t j, std::vector<Range>* out) {
  out->clear();
  WalkLeftBlocks(j, [&](uint64_t end, uint64_t k, int h) {
    const Range block{BlockFirst(k, h), k};
    if (i <= k) {
      out->push_back({k + 1, end});
      if (i < k) return Step::kDescend;
      out->push_back(block);
      return Step::kStop;
    }
    out->push_back(block);
    if (i == end) {
      out->push_back({k + 1, end});
      return Step::kStop;
    }
    return Step::kPass;
  });
  std::reverse(out->begin(), out->end());
}

}  // namespace ahtree

namespace {

using ahtree::DigestRef;
using ahtree::kCrcSize;
using ahtree::kDigestSize;
using ahtree::kMaxRecordSize;
using ahtree::Range;
using ahtree::RecordOffset;
using ahtree::RecordSize;

// A direct-mapped cache of digests already read and checked, keyed by
// (leaf, index). The top blocks of every proof over a large tree are the
// same few records, so a small cache turns most proof reads into lookups.
// Fixed size (kSlots * 48 bytes, about 1.5 MB). Thread-safe.
class DigestCache {
 public:
  DigestCache() : slots_(kSlots) {}

  bool Lookup(const DigestRef& ref, Hash* out) const {
    const size_t s = SlotOf(ref);
    std::lock_guard<std::mutex> l(mu_[s % kShards]);
    const Slot& slot = slots_[s];
    if (slot.leaf != ref.leaf || slot.index != ref.index) return false;
    *out = slot.digest;
    return true;
  }

  void Insert(const DigestRef& ref, const Hash& digest) {
    const size_t s = SlotOf(ref);
    std::lock_guard<std::mutex> l(mu_[s % kShards]);
    slots_[s] = Slot{ref.leaf, ref.index, digest};
  }

  // Forgets everything; used when leaves are truncated away (their digests
  // could later be appended again with other values).
  void Clear() {
    for (size_t shard = 0; shard < kShards; shard++) {
      std::lock_guard<std::mutex> l(mu_[shard]);
      for (size_t s = shard; s < kSlots; s += kShards) slots_[s] = Slot{};
    }
  }

 private:
  static constexpr size_t kSlotBits = 15;
  static constexpr size_t kSlots = size_t{1} << kSlotBits;
  static constexpr size_t kShards = 64;

  struct Slot {
    uint64_t leaf = 0;  // 0 = empty; leaves are 1-based.
    uint32_t index = 0;
    Hash digest{};
  };

  static size_t SlotOf(const DigestRef& ref) {
    const uint64_t x = (ref.leaf * 0x9e3779b97f4a7c15ull) ^ (uint64_t{ref.index} << 57);
    return static_cast<size_t>((x * 0xbf58476d1ce4e5b9ull) >> (64 - kSlotBits));
  }

  mutable std::array<std::mutex, kShards> mu_;
  std::vector<Slot> slots_;
};

// True if R(a, b) is a perfect block: 2^h leaves ending at a multiple of
// 2^h. Sets *h.
bool PerfectBlock(const Range& r, int* h) {
  const uint64_t len = r.b - r.a + 1;
  if (!std::has_single_bit(len) || r.b % len != 0) return false;
  *h = std::countr_zero(len);
  return true;
}

// Digests of the perfect blocks at the upper levels of the tree. Block b
// (1-based) of level h covers leaves (b-1)*2^h+1 .. b*2^h and is digest #h of
// the record of leaf b*2^h. Every term of an inclusion or consistency proof
// except the right edges of the target tree is such a block, so with levels
// min_level and up in memory a proof reads only the terms of the lowest
// levels, which lie in records next to each other. The writer adds each block
// as it closes; readers add the blocks that end at every record they read and
// check, so blocks closed before an open are known once a proof needed them.
// Memory stays under max_bytes: the lowest level is dropped when the tree
// outgrows it. Thread-safe; Reset only without concurrent readers. Readers
// (Lookup, AddRecord) share mu_: a digest is written with atomic word stores
// before its known bit is set (release), and read only after the bit is seen
// set (acquire), so readers that learn blocks do not exclude each other;
// only the writer's Append and the level changes take mu_ exclusively.
class BlockCache {
 public:
  explicit BlockCache(uint64_t max_bytes) : max_bytes_(max_bytes) {}

  // For a tree of n leaves: forgets every digest, chooses the lowest level
  // that fits with room to grow and sizes the levels.
  void Reset(uint64_t n) {
    std::unique_lock<std::shared_mutex> l(mu_);
    int min = kNone;
    if (max_bytes_ > 0) {
      for (min = kLowest; min < kNone && Footprint(n, min) > max_bytes_ - max_bytes_ / 4; min++) {
      }
    }
    bytes_ = 0;
    known_.store(0, std::memory_order_relaxed);
    for (int h = 0; h < kNone; h++) {
      Level& lv = levels_[h];
      lv = Level{};
      const uint64_t count = n >> h;
      if (h >= min && count > 0) {
        Grow(&lv, count + count / 8);
        lv.size = count;
      }
      bytes_ += LevelBytes(lv);
    }
    DropOverBudget(&min);
    min_level_.store(min, std::memory_order_relaxed);
  }

  // The writer appended leaf n, whose record holds `digests`: adds the blocks
  // it closes.
  void Append(uint64_t n, const uint8_t* digests) {
    const int t = std::countr_zero(n);
    if (t < min_level_.load(std::memory_order_relaxed)) return;
    std::unique_lock<std::shared_mutex> l(mu_);
    int min = min_level_.load(std::memory_order_relaxed);
    for (int h = min; h <= t; h++) {
      Level& lv = levels_[h];
      // Leaf n closes block n >> h of level h, the level's next one.
      if ((n >> h) != lv.size + 1) continue;
      if (lv.size == lv.cap) {
        bytes_ -= LevelBytes(lv);
        Grow(&lv, lv.size + lv.size / 4 + 64);
        bytes_ += LevelBytes(lv);
      }
      StoreDigest(lv, lv.size, digests + size_t(h) * kDigestSize);
      SetKnown(lv, lv.size);
      lv.size++;
    }
    DropOverBudget(&min);
    min_level_.store(min, std::memory_order_relaxed);
  }

  // Adds the blocks that end at `leaf`, from its checked record `digests`.
  // Two readers adding the same block store the same digest.
  void AddRecord(uint64_t leaf, const uint8_t* digests) {
    const int t = std::countr_zero(leaf);
    if (t < min_level_.load(std::memory_order_relaxed)) return;
    std::shared_lock<std::shared_mutex> l(mu_);
    for (int h = min_level_.load(std::memory_order_relaxed); h <= t; h++) {
      Level& lv = levels_[h];
      const uint64_t b = leaf >> h;
      if (b > lv.size || IsKnown(lv, b - 1)) continue;
      StoreDigest(lv, b - 1, digests + size_t(h) * kDigestSize);
      SetKnown(lv, b - 1);
    }
  }

  // True if R(r.a, r.b) is a block of a level held here.
  bool Holds(const Range& r) const {
    int h;
    return PerfectBlock(r, &h) && h >= min_level_.load(std::memory_order_relaxed);
  }

  // For each t < n with !have[t] whose range is a known block, sets *terms[t]
  // and have[t].
  void Lookup(const Range* ranges, size_t n, Hash* const* terms, uint8_t* have) const {
    if (min_level_.load(std::memory_order_relaxed) == kNone) return;
    std::shared_lock<std::shared_mutex> l(mu_);
    const int min = min_level_.load(std::memory_order_relaxed);
    for (size_t t = 0; t < n; t++) {
      int h;
      if (have[t] || !PerfectBlock(ranges[t], &h) || h < min) continue;
      const Level& lv = levels_[h];
      const uint64_t b = ranges[t].b >> h;
      if (b > lv.size || !IsKnown(lv, b - 1)) continue;
      LoadDigest(lv, b - 1, terms[t]);
      have[t] = 1;
    }
  }

  AHTreeCacheStats Stats() const {
    std::shared_lock<std::shared_mutex> l(mu_);
    AHTreeCacheStats s;
    s.block_cache_bytes = bytes_;
    s.block_cache_min_level = min_level_.load(std::memory_order_relaxed);
    s.block_cache_digests = known_.load(std::memory_order_relaxed);
    return s;
  }

 private:
  static constexpr int kNone = 64;
  // The lowest level ever held. Below it the writer would store a digest
  // for most appends (the leaves alone take 32 bytes per leaf), which
  // costs the commit path more than the proofs gain: a proof's terms of
  // levels 0-3 lie in records next to each other, read together, and in
  // a small tree they all fit the DigestCache.
  static constexpr int kLowest = 4;

  // A digest as four words, each read and written atomically.
  struct Words {
    uint64_t w[4];
  };
  static_assert(sizeof(Words) == kDigestSize);

  // Slots for `cap` blocks, the first `size` of them closed. A digest is
  // valid where its bit in `known` is set; the others were never written
  // (untouched memory, which an open does not have to fill).
  struct Level {
    std::unique_ptr<Words[]> digests;
    std::unique_ptr<uint64_t[]> known;
    uint64_t size = 0;
    uint64_t cap = 0;
  };

  // Reallocates lv for `cap` slots, keeping its blocks.
  static void Grow(Level* lv, uint64_t cap) {
    std::unique_ptr<Words[]> digests(new Words[cap]);  // Left uninitialized.
    std::unique_ptr<uint64_t[]> known(new uint64_t[BitWords(cap)]());
    if (lv->size > 0) {
      std::memcpy(digests.get(), lv->digests.get(), lv->size * sizeof(Words));
      std::memcpy(known.get(), lv->known.get(), BitWords(lv->size) * sizeof(uint64_t));
    }
    lv->digests = std::move(digests);
    lv->known = std::move(known);
    lv->cap = cap;
  }

  // Over budget: drops the lowest levels, the largest, from *min up.
  // REQUIRES: mu_ held exclusively.
  void DropOverBudget(int* min) {
    while (bytes_ > max_bytes_ && *min < kNone) {
      Level& lv = levels_[*min];
      known_.fetch_sub(CountKnown(lv), std::memory_order_relaxed);
      bytes_ -= LevelBytes(lv);
      lv = Level{};
      (*min)++;
    }
  }

  static uint64_t BitWords(uint64_t count) { return (count + 63) / 64; }
  static uint64_t LevelBytes(const Level& lv) {
    return lv.cap * sizeof(Words) + BitWords(lv.cap) * sizeof(uint64_t);
  }
  // Bytes that levels min.. take for a tree of n leaves.
  static uint64_t Footprint(uint64_t n, int min) {
    uint64_t bytes = 0;
    for (int h = min; h < kNone; h++) {
      bytes += (n >> h) * sizeof(Words) + BitWords(n >> h) * sizeof(uint64_t);
    }
    return bytes;
  }
  // The known bits and digests are accessed atomically (see the class
  // comment); the level arrays themselves change only under mu_ exclusively.
  static bool IsKnown(const Level& lv, uint64_t i) {
    const uint64_t word =
        std::atomic_ref<uint64_t>(lv.known[i / 64]).load(std::memory_order_acquire);
    return (word >> (i % 64)) & 1;
  }
  void SetKnown(Level& lv, uint64_t i) {
    const uint64_t bit = uint64_t{1} << (i % 64);
    const uint64_t old =
        std::atomic_ref<uint64_t>(lv.known[i / 64]).fetch_or(bit, std::memory_order_release);
    if ((old & bit) == 0) known_.fetch_add(1, std::memory_order_relaxed);
  }
  static void StoreDigest(Level& lv, uint64_t i, const uint8_t* digest) {
    Words words;
    std::memcpy(words.w, digest, kDigestSize);
    for (int k = 0; k < 4; k++) {
      std::atomic_ref<uint64_t>(lv.digests[i].w[k]).store(words.w[k], std::memory_order_relaxed);
    }
  }
  static void LoadDigest(const Level& lv, uint64_t i, Hash* out) {
    Words words;
    for (int k = 0; k < 4; k++) {
      words.w[k] = std::atomic_ref<uint64_t>(lv.digests[i].w[k]).load(std::memory_order_relaxed);
    }
    std::memcpy(out->data(), words.w, kDigestSize);
  }
  static uint64_t CountKnown(const Level& lv) {
    uint64_t c = 0;
    for (uint64_t w = 0; w < BitWords(lv.size); w++) {
      c += static_cast<uint64_t>(std::popcount(lv.known[w]));
    }
    return c;
  }

  const uint64_t max_bytes_;
  mutable std::shared_mutex mu_;
  // Written under mu_ held exclusively; read without it only to skip work.
  std::atomic<int> min_level_{kNone};
  std::array<Level, kNone> levels_;
  uint64_t bytes_ = 0;              // Allocated by levels_. Guarded by mu_.
  std::atomic<uint64_t> known_{0};  // Known digests.
};

// Per-thread buffers of a proof's fetch, so that a proof allocates only the
// vectors it returns.
struct FetchScratch {
  std::vector<Range> ranges;  // Every term asked for.
  std::vector<Range> one;     // One proof's terms.
  std::vector<Hash*> dst;     // Where each term goes.
  std::vector<DigestRef> refs;
  std::vector<uint8_t> have;
  std::vector<size_t> missing;   // Terms to read.
  std::vector<uint64_t> starts;  // ReadTerms: record offset of each missing term.
};

class AHTreeImpl final : public AHTree {
 public:
  AHTreeImpl(std::string dir, uint64_t segment_size, uint64_t block_cache_bytes,
             std::unique_ptr<Appendable> app)
      : dir_(std::move(dir)),
        segment_size_(segment_size),
        app_(std::move(app)),
        blocks_(block_cache_bytes) {}

  ~AHTreeImpl() override {
    if (!closed_) static_cast<void>(app_->Close());  // Best effort; Close() reports errors.
  }

  // Repairs a torn tail no longer than `torn_window` bytes and loads the
  // frontier. Called once by Open.
  Status Recover(uint64_t torn_window);

  Result<uint64_t> Append(const Hash& alh) override;
  uint64_t Size() const override { return size_.load(std::memory_order_acquire); }
  Result<Hash> RootAt(uint64_t n) const override;
  Result<Hash> LastRoot() const override {
    const uint64_t n = Size();
    if (n != 0 && n == last_root_n_) return last_root_;
    return RootAt(n);
  }
  Result<std::vector<Hash>> InclusionProof(uint64_t i, uint64_t j) const override;
  Result<std::vector<Hash>> ConsistencyProof(uint64_t i, uint64_t j) const override;
  Result<std::vector<std::vector<Hash>>> Proofs(
      const std::vector<AHTreeProofSpec>& specs) const override;
  AHTreeCacheStats CacheStats() const override { return blocks_.Stats(); }
  Status Flush() override { return app_->Flush(); }
  Status Sync() override { return app_->Sync(); }
  Status FlushForSync() override { return app_->FlushForSync().status(); }
  Status SyncFlushed() override { return app_->SyncFlushed().status(); }
  Status Truncate(uint64_t n) override;
  Status Close() override;

 private:
  // "<dir>/<segment>.aht offset <o>" for the byte at global offset `off`.
  std::string Where(uint64_t off) const;
  // Reads the record of leaf n into buf (RecordSize(n) bytes) and checks its
  // CRC: Corruption naming file and offset on mismatch.
  Status ReadRecord(uint64_t n, uint8_t* buf) const;
  // Checks the CRC of the record of leaf n at rec.
  Status CheckRecord(uint64_t n, const uint8_t* rec) const;
  // The digest `ref` names, from the cache or else from its checked record.
  Status GetDigest(const DigestRef& ref, Hash* out) const;
  Status CheckRange(uint64_t i, uint64_t j) const;
  // This thread's FetchScratch.
  static FetchScratch& Scratch();
  // Sets *s.dst[t] to the digest of s.ranges[t] for every t: from the caches,
  // else from the records, read with one ReadAt for records that lie close
  // together.
  Status Fetch(FetchScratch& s) const;
  // Reads and checks the records of the terms s.missing names.
  Status ReadTerms(FetchScratch& s) const;
  // Reloads frontier_ for size n from the records of the blocks' last leaves.
  Status LoadFrontier(uint64_t n);

  const std::string dir_;
  const uint64_t segment_size_;
  std::unique_ptr<Appendable> app_;
  mutable DigestCache cache_;
  mutable BlockCache blocks_;

  // Published with release after the record of leaf `size_` is in app_, so a
  // reader that sees size n can read records 1..n.
  std::atomic<uint64_t> size_{0};

  // Writer-only state. frontier_[h], for each set bit h of size_, is the root
  // of the perfect block of 2^h leaves that bit stands for: exactly the left
  // siblings that the next leaf's digests combine with.
  std::array<Hash, 64> frontier_{};
  Hash last_root_{};          // Root(last_root_n_), set by Append.
  uint64_t last_root_n_ = 0;  // 0: none.
  Status bg_error_;           // After a failed append, the file and frontier_ may disagree.
  bool closed_ = false;
};

std::string AHTreeImpl::Where(uint64_t off) const {
  char buf[96];
  std::snprintf(buf, sizeof(buf), "/%08" PRIu64 ".%s offset %" PRIu64, off / segment_size_,
                ahtree::kFileExt, off % segment_size_);
  return dir_ + buf;
}

Status AHTreeImpl::ReadRecord(uint64_t n, uint8_t* buf) const {
  const uint64_t off = RecordOffset(n);
  const size_t len = RecordSize(n);
  Status s = app_->ReadAt(off, len, reinterpret_cast<char*>(buf));
  if (!s.ok()) return s.WithPrefix("ahtree: reading leaf " + std::to_string(n));
  return CheckRecord(n, buf);
}

Status AHTreeImpl::CheckRecord(uint64_t n, const uint8_t* rec) const {
  const size_t body = RecordSize(n) - kCrcSize;
  const uint32_t want = crc32c::Unmask(GetU32BE(rec + body));
  if (crc32c::Value(rec, body) != want) {
    return Status::Corruption("ahtree: bad checksum in record of leaf " + std::to_string(n) +
                              " at " + Where(RecordOffset(n)));
  }
  return Status::OK();
}

Status AHTreeImpl::GetDigest(const DigestRef& ref, Hash* out) const {
  if (cache_.Lookup(ref, out)) return Status::OK();
  uint8_t buf[kMaxRecordSize];
  IMMUDB_RETURN_IF_ERROR(ReadRecord(ref.leaf, buf));
  std::copy_n(buf + size_t{ref.index} * kDigestSize, kDigestSize, out->begin());
  cache_.Insert(ref, *out);
  return Status::OK();
}

Status AHTreeImpl::CheckRange(uint64_t i, uint64_t j) const {
  const uint64_t size = Size();
  if (i == 0 || i > j || j > size) {
    return Status::OutOfRange("ahtree: proof (" + std::to_string(i) + ", " + std::to_string(j) +
                              ") outside 1 <= i <= j <= size " + std::to_string(size));
  }
  return Status::OK();
}

FetchScratch& AHTreeImpl::Scratch() {
  thread_local FetchScratch scratch;
  return scratch;
}

Status AHTreeImpl::Fetch(FetchScratch& s) const {
  const size_t n = s.ranges.size();
  s.refs.resize(n);
  for (size_t t = 0; t < n; t++) {
    if (!ahtree::StoredDigestFor(s.ranges[t].a, s.ranges[t].b, &s.refs[t])) {
      return Status::Internal("ahtree: proof term R(" + std::to_string(s.ranges[t].a) + ", " +
                              std::to_string(s.ranges[t].b) + ") is not stored");
    }
  }
  s.have.assign(n, 0);
  blocks_.Lookup(s.ranges.data(), n, s.dst.data(), s.have.data());
  s.missing.clear();
  for (size_t t = 0; t < n; t++) {
    if (!s.have[t] && !cache_.Lookup(s.refs[t], s.dst[t])) s.missing.push_back(t);
  }
  return s.missing.empty() ? Status::OK() : ReadTerms(s);
}

Status AHTreeImpl::ReadTerms(FetchScratch& s) const {
  // Records closer than this are read together: a proof's low-level terms lie
  // in the records of a few neighbouring leaves, and one system call copying
  // the bytes between them costs less than one per record.
  static constexpr uint64_t kMaxSpan = 16 << 10;
  static_assert(kMaxSpan >= kMaxRecordSize);
  const std::vector<DigestRef>& refs = s.refs;
  std::vector<size_t>& missing = s.missing;
  std::sort(missing.begin(), missing.end(),
            [&](size_t x, size_t y) { return refs[x].leaf < refs[y].leaf; });
  // Where each missing term's record starts, once per record: the offsets
  // below are all relative to these.
  std::vector<uint64_t>& starts = s.starts;
  starts.resize(missing.size());
  for (size_t x = 0; x < missing.size(); x++) {
    const uint64_t leaf = refs[missing[x]].leaf;
    starts[x] = x > 0 && refs[missing[x - 1]].leaf == leaf ? starts[x - 1] : RecordOffset(leaf);
  }
  auto end_of = [&](size_t x) { return starts[x] + RecordSize(refs[missing[x]].leaf); };
  uint8_t buf[kMaxSpan];
  for (size_t g = 0; g < missing.size();) {
    const uint64_t first = refs[missing[g]].leaf;
    const uint64_t off = starts[g];
    size_t e = g + 1;
    while (e < missing.size() && end_of(e) - off <= kMaxSpan) e++;
    const uint64_t len = end_of(e - 1) - off;
    Status st = app_->ReadAt(off, len, reinterpret_cast<char*>(buf));
    if (!st.ok()) return st.WithPrefix("ahtree: reading leaf " + std::to_string(first));
    uint64_t checked = 0;
    for (size_t x = g; x < e; x++) {
      const size_t t = missing[x];
      const DigestRef& ref = refs[t];
      const uint8_t* rec = buf + (starts[x] - off);
      if (ref.leaf != checked) {
        IMMUDB_RETURN_IF_ERROR(CheckRecord(ref.leaf, rec));
        blocks_.AddRecord(ref.leaf, rec);
        checked = ref.leaf;
      }
      std::copy_n(rec + size_t{ref.index} * kDigestSize, kDigestSize, s.dst[t]->begin());
      // Blocks of the levels blocks_ holds are there now.
      if (!blocks_.Holds(s.ranges[t])) cache_.Insert(ref, *s.dst[t]);
    }
    g = e;
  }
  return Status::OK();
}

Result<Hash> AHTreeImpl::RootAt(uint64_t n) const {
  const uint64_t size = Size();
  if (n == 0 || n > size) {
    return Status::OutOfRange("ahtree: root of " + std::to_string(n) + " leaves, size " +
                              std::to_string(size));
  }
  Hash root;
  IMMUDB_RETURN_IF_ERROR(GetDigest({n, static_cast<uint32_t>(ahtree::DigestCount(n) - 1)}, &root));
  return root;
}

Result<std::vector<std::vector<Hash>>> AHTreeImpl::Proofs(
    const std::vector<AHTreeProofSpec>& specs) const {
  FetchScratch& s = Scratch();
  s.ranges.clear();
  std::vector<std::vector<Hash>> out(specs.size());
  for (size_t p = 0; p < specs.size(); p++) {
    const AHTreeProofSpec& spec = specs[p];
    IMMUDB_RETURN_IF_ERROR(CheckRange(spec.i, spec.j));
    if (spec.kind == AHTreeProofSpec::Kind::kInclusion) {
      ahtree::InclusionRanges(spec.i, spec.j, &s.one);
    } else if (spec.kind == AHTreeProofSpec::Kind::kConsistency) {
      ahtree::ConsistencyRanges(spec.i, spec.j, &s.one);
    } else {
      s.one.assign(1, ahtree::Range{spec.i, spec.i});
    }
    s.ranges.insert(s.ranges.end(), s.one.begin(), s.one.end());
    out[p].resize(s.one.size());
  }
  s.dst.clear();
  for (std::vector<Hash>& terms : out) {
    for (Hash& h : terms) s.dst.push_back(&h);
  }
  IMMUDB_RETURN_IF_ERROR(Fetch(s));
  return out;
}

Result<std::vector<Hash>> AHTreeImpl::InclusionProof(uint64_t i, uint64_t j) const {
  IMMUDB_ASSIGN_OR_RETURN(auto out, Proofs({{AHTreeProofSpec::Kind::kInclusion, i, j}}));
  return std::move(out[0]);
}

Result<std::vector<Hash>> AHTreeImpl::ConsistencyProof(uint64_t i, uint64_t j) const {
  IMMUDB_ASSIGN_OR_RETURN(auto out, Proofs({{AHTreeProofSpec::Kind::kConsistency, i, j}}));
  return std::move(out[0]);
}

Result<uint64_t> AHTreeImpl::Append(const Hash& alh) {
  if (closed_) return Status::FailedPrecondition("ahtree: append after close: " + dir_);
  if (!bg_error_.ok()) return bg_error_;
  const uint64_t prev = size_.load(std::memory_order_relaxed);
  const uint64_t n = prev + 1;

  // Digest #d = R(m_d + 1, n): fold the leaf hash into the frontier blocks
  // from the lowest set bit of n-1 upwards (proofs.md §4.3).
  // The leaf hash and its NodeHash chain in one call: the frontier blocks
  // are known before the leaf, so each node's rounds over them need not
  // wait for the node before.
  uint8_t rec[kMaxRecordSize];
  const Hash* lefts[64];
  size_t m = 0;
  for (uint64_t bits = prev; bits != 0; bits &= bits - 1) {
    lefts[m++] = &frontier_[std::countr_zero(bits)];
  }
  Hash digests[65];
  const Hash c = LeafNodeHashChain(alh, lefts, m, digests);
  size_t len = 0;
  for (size_t i = 0; i <= m; i++) {
    std::copy(digests[i].begin(), digests[i].end(), rec + len);
    len += kDigestSize;
  }
  PutU32BE(rec + len, crc32c::Mask(crc32c::Value(rec, len)));
  len += kCrcSize;

  Result<uint64_t> off = app_->Append(std::string_view(reinterpret_cast<char*>(rec), len));
  if (!off.ok()) {
    bg_error_ = off.status().WithPrefix("ahtree: append of leaf " + std::to_string(n));
    return bg_error_;
  }
  if (*off != RecordOffset(n)) {
    bg_error_ = Status::Internal("ahtree: leaf " + std::to_string(n) + " written at offset " +
                                 std::to_string(*off) + ", expected " +
                                 std::to_string(RecordOffset(n)) + " in " + dir_);
    return bg_error_;
  }

  // Leaf n closes the perfect block of 2^t leaves, t = trailing zeros of n;
  // the blocks below it are absorbed into it.
  const int t = std::countr_zero(n);
  std::copy_n(rec + size_t(t) * kDigestSize, kDigestSize, frontier_[t].begin());
  blocks_.Append(n, rec);
  // Root(n) is what the next commit asks for (BlRoot), so keep it at hand.
  last_root_ = c;
  last_root_n_ = n;
  size_.store(n, std::memory_order_release);
  return n;
}

Status AHTreeImpl::LoadFrontier(uint64_t n) {
  for (uint64_t bits = n; bits != 0; bits &= bits - 1) {
    const int h = std::countr_zero(bits);
    // The block for bit h ends at leaf k = n with bits below h cleared, a
    // multiple of 2^h, so its root is digest #h of leaf k.
    const uint64_t k = (n >> h) << h;
    IMMUDB_RETURN_IF_ERROR(GetDigest({k, static_cast<uint32_t>(h)}, &frontier_[h]));
  }
  return Status::OK();
}

Status AHTreeImpl::Recover(uint64_t torn_window) {
  const uint64_t bytes = app_->Size();
  // Only bytes that were never synced can be torn: the last `torn_window`
  // bytes of the file. Pages of an unsynced region reach the disk in any
  // order, so a hole may be followed by records that look whole: inside the
  // window the first bad (short or failing) record and everything after it
  // is cut. Records before the window were synced; the last of them (the one
  // the window starts in, if any) must check out, else Corruption.
  const uint64_t window_start = bytes > torn_window ? bytes - torn_window : 0;
  const uint64_t complete = ahtree::CompleteRecords(bytes);
  // The first record starting inside the window.
  const uint64_t before = ahtree::CompleteRecords(window_start);
  const uint64_t first = ahtree::RecordOffset(before + 1) == window_start ? before + 1 : before + 2;
  uint8_t buf[kMaxRecordSize];
  if (first > 1 && first - 1 <= complete) {
    IMMUDB_RETURN_IF_ERROR(ReadRecord(first - 1, buf));
  }
  uint64_t n = first - 1 < complete ? first - 1 : complete;
  while (n < complete) {
    Status s = ReadRecord(n + 1, buf);
    if (!s.ok()) {
      if (!s.IsCorruption()) return s;
      break;
    }
    n++;
  }
  if (ahtree::RecordOffset(n + 1) != bytes) {
    IMMUDB_RETURN_IF_ERROR(app_->Truncate(ahtree::RecordOffset(n + 1)));
  }
  size_.store(n, std::memory_order_release);
  blocks_.Reset(n);
  // Leaf n itself holds the lowest frontier block: its record, just checked,
  // is read again here (the cache is empty), which costs one read on open.
  return LoadFrontier(n);
}

// Like Append, a writer operation; unlike Append, readers must not run
// concurrently (they could put digests of cut leaves back into the cache).
Status AHTreeImpl::Truncate(uint64_t n) {
  const uint64_t size = Size();
  if (n > size) {
    return Status::OutOfRange("ahtree: truncate to " + std::to_string(n) + " leaves, size " +
                              std::to_string(size) + ": " + dir_);
  }
  IMMUDB_RETURN_IF_ERROR(app_->Truncate(RecordOffset(n + 1)));
  size_.store(n, std::memory_order_release);
  last_root_n_ = 0;
  cache_.Clear();
  blocks_.Reset(n);
  Status s = LoadFrontier(n);
  // Appending on a partly loaded frontier would store wrong digests.
  if (!s.ok() && bg_error_.ok()) bg_error_ = s;
  return s;
}

Status AHTreeImpl::Close() {
  if (closed_) return Status::OK();
  closed_ = true;
  return app_->Close();
}

}  // namespace

Result<std::unique_ptr<AHTree>> AHTree::Open(FileSystem* fs, const std::string& dir,
                                             const AHTreeOptions& opts) {
  if (opts.segment_size == 0) {
    return Status::InvalidArgument("ahtree: segment_size must be positive: " + dir);
  }
  AppendableOptions aopts;
  aopts.ext = ahtree::kFileExt;
  aopts.segment_size = opts.segment_size;
  aopts.write_buffer_size = opts.write_buffer_size;
  IMMUDB_ASSIGN_OR_RETURN(std::unique_ptr<Appendable> app, Appendable::Open(fs, dir, aopts));
  auto tree =
      std::make_unique<AHTreeImpl>(dir, opts.segment_size, opts.block_cache_bytes, std::move(app));
  // By default only the last write(2) is unsynced: it carries at most a full
  // buffer, and the first record it tears may have started in the previous one.
  const uint64_t window =
      opts.torn_window != 0 ? opts.torn_window : opts.write_buffer_size + ahtree::kMaxRecordSize;
  IMMUDB_RETURN_IF_ERROR(tree->Recover(window));
  return std::unique_ptr<AHTree>(std::move(tree));
}

}  // namespace immudb
