// On-disk layout of the AHT node file, and the arithmetic that maps proof
// terms to stored digests. See docs/format/ahtree.md and proofs.md §4.3.
//
// Leaf n (1-based) owns one record: the digests R(m_d + 1, n) for
// d = 0..popcount(n-1), where m_d is (n-1) with its d lowest set bits
// cleared, followed by a masked CRC-32C (big-endian) of those digests. Records
// are packed back to back from offset 0, so the record of leaf n starts at a
// computable offset and no index is needed. All functions here are pure.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace immudb::ahtree {

// File name extension of the Appendable segments ("00000000.aht").
inline constexpr char kFileExt[] = "aht";
inline constexpr size_t kDigestSize = 32;
inline constexpr size_t kCrcSize = 4;
// popcount(n-1) <= 64, so a record holds at most 65 digests.
inline constexpr size_t kMaxDigests = 65;
inline constexpr size_t kMaxRecordSize = kMaxDigests * kDigestSize + kCrcSize;

// Number of digests in the record of leaf n. REQUIRES: n >= 1.
inline constexpr uint64_t DigestCount(uint64_t n) {
  return static_cast<uint64_t>(std::popcount(n - 1)) + 1;
}

// Size in bytes of the record of leaf n. REQUIRES: n >= 1.
inline constexpr uint64_t RecordSize(uint64_t n) { return DigestCount(n) * kDigestSize + kCrcSize; }

// Sum of popcount(x) for x in [0, k). Split [0, k) at the set bits of k,
// from the highest: with bit b set, the next 2^b numbers share the bits of k
// above b (`above` of them set) and run through every pattern of the b bits
// below, b * 2^(b-1) set bits in all. O(popcount(k)) steps.
inline constexpr uint64_t PopcountPrefixSum(uint64_t k) {
  uint64_t sum = 0;
  uint64_t above = 0;
  while (k != 0) {
    const int b = std::bit_width(k) - 1;
    k ^= uint64_t{1} << b;
    sum += (above << b) + (b == 0 ? 0 : uint64_t(b) << (b - 1));
    above++;
  }
  return sum;
}

// Offset of the record of leaf n: the sum of RecordSize(m) for m < n, i.e.
// 36*(n-1) + 32*PopcountPrefixSum(n-1). REQUIRES: n >= 1. RecordOffset(n+1)
// is the file size of a tree with n leaves.
inline constexpr uint64_t RecordOffset(uint64_t n) {
  return (n - 1) * (kDigestSize + kCrcSize) + kDigestSize * PopcountPrefixSum(n - 1);
}

// Number of complete records in a file of `bytes` bytes: the largest n with
// RecordOffset(n + 1) <= bytes. O(log^2 bytes).
inline constexpr uint64_t CompleteRecords(uint64_t bytes) {
  // Every record is at least 36 bytes, so n <= bytes / 36.
  uint64_t lo = 0, hi = bytes / (kDigestSize + kCrcSize);
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo + 1) / 2;
    if (RecordOffset(mid + 1) <= bytes) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}

// Where R(a, b) is stored, if it is: digest #index of the record of leaf.
struct DigestRef {
  uint64_t leaf;
  uint32_t index;
};

// R(a, b) is stored iff a-1 is b-1 with some number d of its lowest set bits
// cleared; it is then digest #d of leaf b. Returns false otherwise (and for
// a == 0 or a > b).
inline constexpr bool StoredDigestFor(uint64_t a, uint64_t b, DigestRef* ref) {
  if (a == 0 || a > b) return false;
  const uint64_t x = a - 1, y = b - 1;
  if ((x & ~y) != 0) return false;            // x must be a subset of y...
  if (x != 0 && (x ^ y) >= (x & (~x + 1))) {  // ...missing only bits below x's.
    return false;
  }
  ref->leaf = b;
  ref->index = static_cast<uint32_t>(std::popcount(x ^ y));
  return true;
}

// A proof term R(a, b), 1 <= a <= b.
struct Range {
  uint64_t a;
  uint64_t b;
  friend bool operator==(const Range&, const Range&) = default;
};

// The terms of INCL(i, j) (proofs.md §4.4) and CONS(i, j) (§4.6), in wire
// order. Every range is stored (StoredDigestFor returns true for it).
// REQUIRES: 1 <= i <= j. Replaces the contents of *out.
void InclusionRanges(uint64_t i, uint64_t j, std::vector<Range>* out);
void ConsistencyRanges(uint64_t i, uint64_t j, std::vector<Range>* out);

}  // namespace immudb::ahtree
