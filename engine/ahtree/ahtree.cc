// AHTree on an Appendable. See ahtree.h, ahtree_format.h and
// docs/format/ahtree.md.

#include "ahtree/ahtree.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cinttypes>
#include <cstdio>
#include <mutex>
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

class AHTreeImpl final : public AHTree {
 public:
  AHTreeImpl(std::string dir, uint64_t segment_size, std::unique_ptr<Appendable> app)
      : dir_(std::move(dir)), segment_size_(segment_size), app_(std::move(app)) {}

  ~AHTreeImpl() override {
    if (!closed_) static_cast<void>(app_->Close());  // Best effort; Close() reports errors.
  }

  // Repairs a torn tail no longer than `torn_window` bytes and loads the
  // frontier. Called once by Open.
  Status Recover(uint64_t torn_window);

  Result<uint64_t> Append(const Hash& alh) override;
  uint64_t Size() const override { return size_.load(std::memory_order_acquire); }
  Result<Hash> RootAt(uint64_t n) const override;
  Result<std::vector<Hash>> InclusionProof(uint64_t i, uint64_t j) const override;
  Result<std::vector<Hash>> ConsistencyProof(uint64_t i, uint64_t j) const override;
  Status Flush() override { return app_->Flush(); }
  Status Sync() override { return app_->Sync(); }
  Status Truncate(uint64_t n) override;
  Status Close() override;

 private:
  // "<dir>/<segment>.aht offset <o>" for the byte at global offset `off`.
  std::string Where(uint64_t off) const;
  // Reads the record of leaf n into buf (RecordSize(n) bytes) and checks its
  // CRC: Corruption naming file and offset on mismatch.
  Status ReadRecord(uint64_t n, uint8_t* buf) const;
  // The digest `ref` names, from the cache or else from its checked record.
  Status GetDigest(const DigestRef& ref, Hash* out) const;
  Status CheckRange(uint64_t i, uint64_t j) const;
  Result<std::vector<Hash>> Fetch(const std::vector<Range>& ranges) const;
  // Reloads frontier_ for size n from the records of the blocks' last leaves.
  Status LoadFrontier(uint64_t n);

  const std::string dir_;
  const uint64_t segment_size_;
  std::unique_ptr<Appendable> app_;
  mutable DigestCache cache_;

  // Published with release after the record of leaf `size_` is in app_, so a
  // reader that sees size n can read records 1..n.
  std::atomic<uint64_t> size_{0};

  // Writer-only state. frontier_[h], for each set bit h of size_, is the root
  // of the perfect block of 2^h leaves that bit stands for: exactly the left
  // siblings that the next leaf's digests combine with.
  std::array<Hash, 64> frontier_{};
  Status bg_error_;  // After a failed append, the file and frontier_ may disagree.
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
  const size_t body = len - kCrcSize;
  const uint32_t want = crc32c::Unmask(GetU32BE(buf + body));
  if (crc32c::Value(buf, body) != want) {
    return Status::Corruption("ahtree: bad checksum in record of leaf " + std::to_string(n) +
                              " at " + Where(off));
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

Result<std::vector<Hash>> AHTreeImpl::Fetch(const std::vector<Range>& ranges) const {
  std::vector<Hash> terms(ranges.size());
  for (size_t t = 0; t < ranges.size(); t++) {
    DigestRef ref{};
    if (!ahtree::StoredDigestFor(ranges[t].a, ranges[t].b, &ref)) {
      return Status::Internal("ahtree: proof term R(" + std::to_string(ranges[t].a) + ", " +
                              std::to_string(ranges[t].b) + ") is not stored");
    }
    IMMUDB_RETURN_IF_ERROR(GetDigest(ref, &terms[t]));
  }
  return terms;
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

Result<std::vector<Hash>> AHTreeImpl::InclusionProof(uint64_t i, uint64_t j) const {
  IMMUDB_RETURN_IF_ERROR(CheckRange(i, j));
  std::vector<Range> ranges;
  ahtree::InclusionRanges(i, j, &ranges);
  return Fetch(ranges);
}

Result<std::vector<Hash>> AHTreeImpl::ConsistencyProof(uint64_t i, uint64_t j) const {
  IMMUDB_RETURN_IF_ERROR(CheckRange(i, j));
  std::vector<Range> ranges;
  ahtree::ConsistencyRanges(i, j, &ranges);
  return Fetch(ranges);
}

Result<uint64_t> AHTreeImpl::Append(const Hash& alh) {
  if (closed_) return Status::FailedPrecondition("ahtree: append after close: " + dir_);
  if (!bg_error_.ok()) return bg_error_;
  const uint64_t prev = size_.load(std::memory_order_relaxed);
  const uint64_t n = prev + 1;

  // Digest #d = R(m_d + 1, n): fold the leaf hash into the frontier blocks
  // from the lowest set bit of n-1 upwards (proofs.md §4.3).
  uint8_t rec[kMaxRecordSize];
  Hash c = LeafHash(alh);
  size_t len = 0;
  std::copy(c.begin(), c.end(), rec);
  len += kDigestSize;
  for (uint64_t bits = prev; bits != 0; bits &= bits - 1) {
    c = NodeHash(frontier_[std::countr_zero(bits)], c);
    std::copy(c.begin(), c.end(), rec + len);
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
  // Root(n) is what the next commit asks for (BlRoot), so keep it at hand.
  cache_.Insert({n, static_cast<uint32_t>(len / kDigestSize - 1)}, c);
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
  cache_.Clear();
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
  auto tree = std::make_unique<AHTreeImpl>(dir, opts.segment_size, std::move(app));
  // By default only the last write(2) is unsynced: it carries at most a full
  // buffer, and the first record it tears may have started in the previous one.
  const uint64_t window =
      opts.torn_window != 0 ? opts.torn_window : opts.write_buffer_size + ahtree::kMaxRecordSize;
  IMMUDB_RETURN_IF_ERROR(tree->Recover(window));
  return std::unique_ptr<AHTree>(std::move(tree));
}

}  // namespace immudb
