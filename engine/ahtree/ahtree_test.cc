// Tests for the AHT: the offset and proof-plan arithmetic, the proofs.md §8 A1
// vectors, agreement with a slow RFC 6962 reference, reopen, torn tails,
// corruption and truncation, on the in-memory and the POSIX file systems.

#include "ahtree/ahtree.h"

#include <gtest/gtest.h>

#include <atomic>
#include <bit>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ahtree/ahtree_format.h"
#include "immudb/hash.h"
#include "testutil/fault_fs.h"
#include "testutil/reference_aht.h"
#include "testutil/test_util.h"
#include "util/coding.h"

namespace immudb {
namespace {

using ahtree::Range;

// ---- Slow reference: RFC 6962 over the leaf list, memoized MTH ----

class RefTree {
 public:
  void Append(const Hash& alh) { leaves_.push_back(LeafHash(alh)); }
  uint64_t size() const { return leaves_.size(); }

  // R(a, b) = MTH(L(a..b)), 1-based and inclusive.
  Hash R(uint64_t a, uint64_t b) const {
    if (a == b) return leaves_[a - 1];
    auto it = memo_.find({a, b});
    if (it != memo_.end()) return it->second;
    const uint64_t k = std::bit_floor(b - a);  // Largest power of two < b-a+1.
    Hash h = NodeHash(R(a, a + k - 1), R(a + k, b));
    memo_.emplace(std::make_pair(a, b), h);
    return h;
  }

  // RFC 6962 PATH(m, D[lo+1 .. lo+n]), m 0-based within the range.
  void Path(uint64_t m, uint64_t lo, uint64_t n, std::vector<Hash>* out) const {
    if (n == 1) return;
    const uint64_t k = std::bit_floor(n - 1);
    if (m < k) {
      Path(m, lo, k, out);
      out->push_back(R(lo + k + 1, lo + n));
    } else {
      Path(m - k, lo + k, n - k, out);
      out->push_back(R(lo + 1, lo + k));
    }
  }

  // RFC 6962 SUBPROOF(m, D[lo+1 .. lo+n], b).
  void SubProof(uint64_t m, uint64_t lo, uint64_t n, bool b, std::vector<Hash>* out) const {
    if (m == n) {
      if (!b) out->push_back(R(lo + 1, lo + n));
      return;
    }
    const uint64_t k = std::bit_floor(n - 1);
    if (m <= k) {
      SubProof(m, lo, k, b, out);
      out->push_back(R(lo + k + 1, lo + n));
    } else {
      SubProof(m - k, lo + k, n - k, false, out);
      out->push_back(R(lo + 1, lo + k));
    }
  }

  // INCL(i, j) = PATH(i-1, D[0:j]) (proofs.md §4.4).
  std::vector<Hash> Incl(uint64_t i, uint64_t j) const {
    std::vector<Hash> out;
    Path(i - 1, 0, j, &out);
    return out;
  }

  // CONS(i, j) by proofs.md §4.6's characterisation.
  std::vector<Hash> Cons(uint64_t i, uint64_t j) const {
    std::vector<Hash> out;
    if (i == j) {
      if (j >= 2) {
        const uint64_t k = std::bit_floor(j - 1);
        out = {R(k + 1, j), R(1, k)};
      }
      return out;
    }
    if (std::has_single_bit(i)) out.push_back(R(1, i));
    SubProof(i, 0, j, true, &out);
    return out;
  }

 private:
  std::vector<Hash> leaves_;
  mutable std::map<std::pair<uint64_t, uint64_t>, Hash> memo_;
};

// proofs.md §4.5 and §4.7 verifiers, for a second, independent check.
bool VerifyIncl(const std::vector<Hash>& p, uint64_t i, uint64_t j, const Hash& leaf,
                const Hash& root) {
  if (i > j || i == 0 || (i < j && p.empty())) return false;
  uint64_t a = i - 1, b = j - 1;
  Hash c = leaf;
  for (const Hash& t : p) {
    c = (a % 2 == 0 && a != b) ? NodeHash(c, t) : NodeHash(t, c);
    a >>= 1;
    b >>= 1;
  }
  return c == root;
}

bool VerifyCons(const std::vector<Hash>& p, uint64_t i, uint64_t j, const Hash& iroot,
                const Hash& jroot) {
  if (i > j || i == 0 || (i < j && p.empty())) return false;
  if (i == j && p.empty()) return iroot == jroot;
  uint64_t fn = i - 1, sn = j - 1;
  while (fn % 2 == 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash ci = p[0], cj = p[0];
  for (size_t t = 1; t < p.size(); t++) {
    if (fn % 2 == 1 || fn == sn) {
      ci = NodeHash(p[t], ci);
      cj = NodeHash(p[t], cj);
      while (fn % 2 == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      cj = NodeHash(cj, p[t]);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return ci == iroot && cj == jroot;
}

// Other leaf data, so truncate-then-append tests see different digests.
Hash OtherAlh(uint64_t x) {
  uint8_t buf[13] = {'o', 't', 'h', 'e', 'r'};
  PutU64BE(buf + 5, x);
  return Sha256Of(buf, sizeof(buf));
}

std::vector<std::string> Hex(const std::vector<Hash>& hs) {
  std::vector<std::string> out;
  for (const Hash& h : hs) out.push_back(ToHex(h));
  return out;
}

// ---- Pure arithmetic ----

TEST(AHTreeFormatTest, PopcountPrefixSumMatchesLoop) {
  uint64_t sum = 0;
  for (uint64_t k = 0; k < 5000; k++) {
    ASSERT_EQ(ahtree::PopcountPrefixSum(k), sum) << k;
    sum += std::popcount(k);
  }
  // 2^m numbers below 2^m hold m * 2^(m-1) set bits.
  EXPECT_EQ(ahtree::PopcountPrefixSum(uint64_t{1} << 40), 40 * (uint64_t{1} << 39));
  EXPECT_EQ(ahtree::PopcountPrefixSum((uint64_t{1} << 40) + 3),
            40 * (uint64_t{1} << 39) + 1 + 2 + 2);
}

TEST(AHTreeFormatTest, PopcountPrefixSumDoublesAsItsNumbersDo) {
  // The numbers below 2k are 2x and 2x+1 for every x below k: 2x has the
  // bits of x, 2x+1 one more. So PPS(2k) = 2 PPS(k) + k, and
  // PPS(2k+1) = PPS(2k) + popcount(2k), which from the exact small counts
  // above fixes every larger one.
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; i++) {
    const uint64_t k = rng() >> (2 + i % 40);
    const uint64_t even = ahtree::PopcountPrefixSum(2 * k);
    ASSERT_EQ(even, 2 * ahtree::PopcountPrefixSum(k) + k) << k;
    ASSERT_EQ(ahtree::PopcountPrefixSum(2 * k + 1), even + std::popcount(2 * k)) << k;
  }
}

TEST(AHTreeFormatTest, RecordOffsetIsRunningSumOfRecordSizes) {
  EXPECT_EQ(ahtree::RecordSize(1), 36u);
  EXPECT_EQ(ahtree::RecordSize(2), 68u);
  EXPECT_EQ(ahtree::RecordSize(4), 100u);
  EXPECT_EQ(ahtree::RecordSize(8), 132u);
  uint64_t off = 0;
  for (uint64_t n = 1; n < 5000; n++) {
    ASSERT_EQ(ahtree::RecordOffset(n), off) << n;
    ASSERT_EQ(ahtree::RecordSize(n), (std::popcount(n - 1) + 1) * 32u + 4) << n;
    off += ahtree::RecordSize(n);
  }
}

TEST(AHTreeFormatTest, CompleteRecordsInvertsRecordOffset) {
  for (uint64_t n = 0; n < 600; n++) {
    const uint64_t end = ahtree::RecordOffset(n + 1);
    ASSERT_EQ(ahtree::CompleteRecords(end), n);
    if (n > 0) {
      ASSERT_EQ(ahtree::CompleteRecords(end - 1), n - 1);
    }
    ASSERT_EQ(ahtree::CompleteRecords(end + 35), n);
  }
  const uint64_t big = 10'000'000;
  EXPECT_EQ(ahtree::CompleteRecords(ahtree::RecordOffset(big + 1)), big);
  EXPECT_EQ(ahtree::CompleteRecords(ahtree::RecordOffset(big + 1) + 1), big);
  EXPECT_EQ(ahtree::CompleteRecords(ahtree::RecordOffset(big + 1) - 1), big - 1);
}

TEST(AHTreeFormatTest, StoredDigestForMatchesStorageHint) {
  // Enumerate the digests proofs.md §4.3 stores for each leaf...
  std::map<std::pair<uint64_t, uint64_t>, ahtree::DigestRef> stored;
  for (uint64_t n = 1; n <= 130; n++) {
    uint64_t m = n - 1;
    for (uint32_t d = 0; d < ahtree::DigestCount(n); d++) {
      stored[{m + 1, n}] = {n, d};
      m &= m - 1;  // Clear the lowest set bit: m_{d+1}.
    }
    EXPECT_EQ(m, 0u);
  }
  // ...and check that StoredDigestFor finds exactly those.
  for (uint64_t b = 1; b <= 130; b++) {
    for (uint64_t a = 1; a <= b; a++) {
      ahtree::DigestRef ref{};
      auto it = stored.find({a, b});
      ASSERT_EQ(ahtree::StoredDigestFor(a, b, &ref), it != stored.end()) << a << "," << b;
      if (it != stored.end()) {
        EXPECT_EQ(ref.leaf, it->second.leaf);
        EXPECT_EQ(ref.index, it->second.index);
      }
    }
  }
  ahtree::DigestRef ref{};
  EXPECT_FALSE(ahtree::StoredDigestFor(0, 3, &ref));
  EXPECT_FALSE(ahtree::StoredDigestFor(4, 3, &ref));
}

// Literal transliteration of the recursive pseudo-code of proofs.md §4.4/§4.6,
// to check the unrolled loops of ahtree.cc.
std::vector<Range> SpecIncl(uint64_t i, uint64_t j, int height) {
  std::vector<Range> suffix;
  for (int h = height - 1; h >= 0; h--) {
    if (((j - 1) >> h & 1) == 0) continue;
    const uint64_t k = ((j - 1) >> h) << h;
    if (i <= k) {
      std::vector<Range> out = SpecIncl(i, k, h);
      out.push_back({k + 1, j});
      out.insert(out.end(), suffix.begin(), suffix.end());
      return out;
    }
    suffix.insert(suffix.begin(), Range{k - (uint64_t{1} << h) + 1, k});
  }
  return suffix;
}

std::vector<Range> SpecCons(uint64_t i, uint64_t j, int height) {
  std::vector<Range> suffix;
  for (int h = height - 1; h >= 0; h--) {
    if (((j - 1) >> h & 1) == 0) continue;
    const uint64_t k = ((j - 1) >> h) << h;
    if (i <= k) {
      std::vector<Range> out =
          i < k ? SpecCons(i, k, h) : std::vector<Range>{{k - (uint64_t{1} << h) + 1, k}};
      out.push_back({k + 1, j});
      out.insert(out.end(), suffix.begin(), suffix.end());
      return out;
    }
    suffix.insert(suffix.begin(), Range{k - (uint64_t{1} << h) + 1, k});
    if (i == j) {
      suffix.insert(suffix.begin(), Range{k + 1, j});
      return suffix;
    }
  }
  return suffix;
}

TEST(AHTreeFormatTest, ProofRangesFollowSpecRecursionAndAreStored) {
  std::vector<Range> got;
  for (uint64_t j = 1; j <= 140; j++) {
    for (uint64_t i = 1; i <= j; i++) {
      ahtree::InclusionRanges(i, j, &got);
      ASSERT_EQ(got, SpecIncl(i, j, std::bit_width(j - 1))) << i << "," << j;
      for (const Range& r : got) {
        ahtree::DigestRef ref{};
        ASSERT_TRUE(ahtree::StoredDigestFor(r.a, r.b, &ref)) << r.a << "," << r.b;
      }
      ahtree::ConsistencyRanges(i, j, &got);
      ASSERT_EQ(got, SpecCons(i, j, std::bit_width(j - 1))) << i << "," << j;
      for (const Range& r : got) {
        ahtree::DigestRef ref{};
        ASSERT_TRUE(ahtree::StoredDigestFor(r.a, r.b, &ref)) << r.a << "," << r.b;
      }
    }
  }
}

// ---- The tree, on both file systems ----

class AHTreeTest : public ::testing::TestWithParam<bool> {
 protected:
  AHTreeTest() {
    if (GetParam()) {
      fs_ = FileSystem::Default();
      tmp_ = std::make_unique<testutil::TempDir>();
      dir_ = tmp_->Sub("aht");
    } else {
      mem_ = NewMemFileSystem();
      fs_ = mem_.get();
      dir_ = "/db/aht";
    }
  }

  std::unique_ptr<AHTree> OpenTree() {
    Result<std::unique_ptr<AHTree>> t = AHTree::Open(fs_, dir_, opts_);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? std::move(t).value() : nullptr;
  }

  // Appends leaves ref.size()+1 .. n to both trees.
  void Grow(AHTree* t, RefTree* ref, uint64_t n, Hash (*alh)(uint64_t) = testutil::SpecA1Alh) {
    while (ref->size() < n) {
      const Hash a = alh(ref->size() + 1);
      ref->Append(a);
      Result<uint64_t> r = t->Append(a);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      ASSERT_EQ(*r, ref->size());
    }
  }

  // Opens the tree, appends leaves 1..n to it and to `ref`, closes it.
  void WriteAndClose(RefTree* ref, uint64_t n) {
    auto t = OpenTree();
    ASSERT_NE(t, nullptr);
    Grow(t.get(), ref, n);
    ASSERT_TRUE(t->Close().ok());
  }

  std::string SegmentPath() const { return dir_ + "/00000000.aht"; }

  // Rewrites the (single) segment file through fs_, keeping `len` bytes and
  // xoring the byte at `flip` (if within them) with 0x01.
  void RewriteSegment(uint64_t len, uint64_t flip) {
    Result<std::string> data = ReadFileToString(fs_, SegmentPath());
    ASSERT_TRUE(data.ok()) << data.status().ToString();
    std::string d = data->substr(0, len);
    if (flip < d.size()) d[flip] ^= 0x01;
    Result<std::unique_ptr<File>> f = fs_->OpenFile(SegmentPath(), false);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    ASSERT_TRUE((*f)->Truncate(0).ok());
    ASSERT_TRUE((*f)->Append(d).ok());
    ASSERT_TRUE((*f)->Sync().ok());
    ASSERT_TRUE((*f)->Close().ok());
  }

  uint64_t SegmentSize() {
    Result<uint64_t> s = fs_->GetFileSize(SegmentPath());
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : 0;
  }

  // Every root and every proof with j <= ref.size() matches the reference.
  void CheckAll(const AHTree& t, const RefTree& ref) {
    ASSERT_EQ(t.Size(), ref.size());
    if (ref.size() > 0) {
      Result<Hash> last = t.LastRoot();
      ASSERT_TRUE(last.ok()) << last.status().ToString();
      ASSERT_EQ(ToHex(*last), ToHex(ref.R(1, ref.size())));
    }
    for (uint64_t j = 1; j <= ref.size(); j++) {
      Result<Hash> root = t.RootAt(j);
      ASSERT_TRUE(root.ok()) << root.status().ToString();
      ASSERT_EQ(ToHex(*root), ToHex(ref.R(1, j))) << j;
      for (uint64_t i = 1; i <= j; i++) CheckPair(t, ref, i, j);
    }
  }

  void CheckPair(const AHTree& t, const RefTree& ref, uint64_t i, uint64_t j) {
    Result<std::vector<Hash>> incl = t.InclusionProof(i, j);
    ASSERT_TRUE(incl.ok()) << incl.status().ToString();
    ASSERT_EQ(Hex(*incl), Hex(ref.Incl(i, j))) << "INCL(" << i << "," << j << ")";
    ASSERT_TRUE(VerifyIncl(*incl, i, j, ref.R(i, i), ref.R(1, j))) << i << "," << j;
    Result<std::vector<Hash>> cons = t.ConsistencyProof(i, j);
    ASSERT_TRUE(cons.ok()) << cons.status().ToString();
    ASSERT_EQ(Hex(*cons), Hex(ref.Cons(i, j))) << "CONS(" << i << "," << j << ")";
    ASSERT_TRUE(VerifyCons(*cons, i, j, ref.R(1, i), ref.R(1, j))) << i << "," << j;
  }

  FileSystem* fs_ = nullptr;
  std::unique_ptr<FileSystem> mem_;
  std::unique_ptr<testutil::TempDir> tmp_;
  std::string dir_;
  AHTreeOptions opts_;
};

INSTANTIATE_TEST_SUITE_P(AHTree, AHTreeTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return p.param ? "Posix" : "Mem";
                         });

TEST_P(AHTreeTest, EmptyTreeHasNoRoots) {
  auto t = OpenTree();
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->Size(), 0u);
  EXPECT_EQ(t->RootAt(0).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(t->RootAt(1).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(t->InclusionProof(1, 1).status().code(), StatusCode::kOutOfRange);
  ASSERT_TRUE(t->Close().ok());
  t = OpenTree();
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->Size(), 0u);
}

// LastRoot is Root(Size()) after every append, after a reopen and after a
// truncation (also one back to a size it had, with other leaves after it).
TEST_P(AHTreeTest, LastRootFollowsAppendsReopenAndTruncate) {
  auto t = OpenTree();
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->LastRoot().status().code(), StatusCode::kOutOfRange);
  RefTree ref;
  for (uint64_t x = 1; x <= 40; x++) {
    ASSERT_TRUE(t->Append(testutil::SpecA1Alh(x)).ok());
    ref.Append(testutil::SpecA1Alh(x));
    Result<Hash> last = t->LastRoot();
    ASSERT_TRUE(last.ok()) << last.status().ToString();
    ASSERT_EQ(ToHex(*last), ToHex(ref.R(1, x))) << x;
  }
  ASSERT_TRUE(t->Close().ok());
  t = OpenTree();
  ASSERT_NE(t, nullptr);
  Result<Hash> last = t->LastRoot();
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_EQ(ToHex(*last), ToHex(ref.R(1, 40)));
  ASSERT_TRUE(t->Truncate(33).ok());
  last = t->LastRoot();
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_EQ(ToHex(*last), ToHex(ref.R(1, 33)));
  RefTree ref2;
  for (uint64_t x = 1; x <= 33; x++) ref2.Append(testutil::SpecA1Alh(x));
  for (uint64_t x = 34; x <= 40; x++) {
    ASSERT_TRUE(t->Append(OtherAlh(x)).ok());
    ref2.Append(OtherAlh(x));
  }
  last = t->LastRoot();
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_EQ(ToHex(*last), ToHex(ref2.R(1, 40)));
  EXPECT_NE(ToHex(*last), ToHex(ref.R(1, 40)));
}

TEST_P(AHTreeTest, A1Vectors) {
  auto t = OpenTree();
  ASSERT_NE(t, nullptr);
  RefTree ref;
  Grow(t.get(), &ref, 8);
  for (uint64_t n = 1; n <= 8; n++) {
    Result<Hash> r = t->RootAt(n);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(ToHex(*r), testutil::kSpecA1Roots[n - 1]) << n;
  }
  using V = std::vector<std::string>;
  auto incl = [&](uint64_t i, uint64_t j) { return Hex(t->InclusionProof(i, j).value()); };
  auto cons = [&](uint64_t i, uint64_t j) { return Hex(t->ConsistencyProof(i, j).value()); };
  EXPECT_EQ(incl(3, 7), (V{"6cbd826c65162cb54c352b9c4ce58949e92c170aedd61d285be554e9cca8cd85",
                           "97fb4d8a537f756a91ffd0f4a38a2b5cfdd8920eac175fd661a9fdc792d520c9",
                           "b4b37b8565aadc4937a54d58326fec7ffa3d3eaf22e5d326c89b0edf642f332c"}));
  EXPECT_EQ(incl(1, 8), (V{"530d467bd291897e311bca4c30c8cad361cf387374f108ba7dba47d76d3f1ed2",
                           "e92158988bb0c3203978a69f8077bfb814bb096cb005bf3558d1d46209e85f29",
                           "24a7082ad6b2b025a072b34fa4b0ae94d3eed204ae932e708b20b0351a2d1db0"}));
  EXPECT_EQ(incl(6, 6), (V{"1743a66b453ae9dd1c199b5ea8bf1faec863248a85210d83b33c72b29438511f",
                           "6789b343d4139164b9e22885f69fbf83d15e80766ca67bfe1c82cbf9a039dfe7"}));
  EXPECT_EQ(incl(7, 7), (V{"9b172c965a996e497a46ac0f3445898adbb747753aaa4055a4f4dff814ec4b79",
                           "6789b343d4139164b9e22885f69fbf83d15e80766ca67bfe1c82cbf9a039dfe7"}));
  EXPECT_EQ(cons(3, 7), (V{"f3308095a389d92856cc87d551c667c5b3518b00cbe224328abdbbedebe27866",
                           "6cbd826c65162cb54c352b9c4ce58949e92c170aedd61d285be554e9cca8cd85",
                           "97fb4d8a537f756a91ffd0f4a38a2b5cfdd8920eac175fd661a9fdc792d520c9",
                           "b4b37b8565aadc4937a54d58326fec7ffa3d3eaf22e5d326c89b0edf642f332c"}));
  EXPECT_EQ(cons(4, 7), (V{"6789b343d4139164b9e22885f69fbf83d15e80766ca67bfe1c82cbf9a039dfe7",
                           "b4b37b8565aadc4937a54d58326fec7ffa3d3eaf22e5d326c89b0edf642f332c"}));
  EXPECT_EQ(cons(2, 8), (V{"97fb4d8a537f756a91ffd0f4a38a2b5cfdd8920eac175fd661a9fdc792d520c9",
                           "e92158988bb0c3203978a69f8077bfb814bb096cb005bf3558d1d46209e85f29",
                           "24a7082ad6b2b025a072b34fa4b0ae94d3eed204ae932e708b20b0351a2d1db0"}));
  EXPECT_EQ(cons(5, 5), (V{"1743a66b453ae9dd1c199b5ea8bf1faec863248a85210d83b33c72b29438511f",
                           "6789b343d4139164b9e22885f69fbf83d15e80766ca67bfe1c82cbf9a039dfe7"}));
  EXPECT_EQ(cons(1, 1), V{});
  EXPECT_EQ(incl(1, 1), V{});
}

// The worked example of docs/format/ahtree.md, byte for byte.
TEST_P(AHTreeTest, FileBytesMatchFormatDoc) {
  auto t = OpenTree();
  ASSERT_NE(t, nullptr);
  RefTree ref;
  Grow(t.get(), &ref, 3);
  ASSERT_TRUE(t->Flush().ok());
  Result<std::string> data = ReadFileToString(fs_, SegmentPath());
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(ToHex(*data),
            "50d8678bcbbe57cad733b6ef23c46767d8508fd4da6cf907f548641e1e45fe07"
            "2f43b850"
            "530d467bd291897e311bca4c30c8cad361cf387374f108ba7dba47d76d3f1ed2"
            "97fb4d8a537f756a91ffd0f4a38a2b5cfdd8920eac175fd661a9fdc792d520c9"
            "e60857c2"
            "f3308095a389d92856cc87d551c667c5b3518b00cbe224328abdbbedebe27866"
            "21c37e49bcdf446ec644460ba0934a09c057f3a80de50d40be854c5524e03452"
            "b9c5cfe1");
}

TEST_P(AHTreeTest, EveryProofMatchesReferenceUpTo300) {
  auto t = OpenTree();
  ASSERT_NE(t, nullptr);
  RefTree ref;
  Grow(t.get(), &ref, 300);
  CheckAll(*t, ref);
}

// The shared testutil reference (a literal transliteration of §4.4/§4.6)
// agrees too.
TEST_P(AHTreeTest, MatchesSharedReferenceAht) {
  auto t = OpenTree();
  ASSERT_NE(t, nullptr);
  testutil::ReferenceAht ref;
  for (uint64_t x = 1; x <= 130; x++) {
    ref.Append(OtherAlh(x));
    ASSERT_TRUE(t->Append(OtherAlh(x)).ok());
  }
  for (uint64_t j = 1; j <= 130; j++) {
    ASSERT_EQ(t->RootAt(j).value(), ref.Root(j)) << j;
    for (uint64_t i = 1; i <= j; i += 1 + j / 16) {
      ASSERT_EQ(Hex(t->InclusionProof(i, j).value()), Hex(ref.Inclusion(i, j))) << i << "," << j;
      ASSERT_EQ(Hex(t->ConsistencyProof(i, j).value()), Hex(ref.Consistency(i, j)))
          << i << "," << j;
    }
  }
}

TEST_P(AHTreeTest, RandomSizesMatchReferenceWhileGrowing) {
  std::mt19937_64 rng(testutil::TestSeed());
  for (int round = 0; round < 3; round++) {
    auto t = OpenTree();
    ASSERT_NE(t, nullptr);
    ASSERT_TRUE(t->Truncate(0).ok());
    RefTree ref;
    const uint64_t n = 1 + rng() % 300;
    // Proofs against the newest leaf, asked right after each append, read
    // records still in the write buffer.
    while (ref.size() < n) {
      Grow(t.get(), &ref, ref.size() + 1);
      const uint64_t j = ref.size();
      ASSERT_EQ(ToHex(t->RootAt(j).value()), ToHex(ref.R(1, j)));
      CheckPair(*t, ref, 1 + rng() % j, j);
      CheckPair(*t, ref, j, j);
    }
    for (int k = 0; k < 500; k++) {
      const uint64_t j = 1 + rng() % n, i = 1 + rng() % j;
      CheckPair(*t, ref, i, j);
    }
    ASSERT_TRUE(t->Close().ok());
  }
}

TEST_P(AHTreeTest, ReopenPreservesProofsAndAppendsContinueAroundPowersOfTwo) {
  for (uint64_t n : {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129}) {
    SCOPED_TRACE(n);
    auto t = OpenTree();
    ASSERT_NE(t, nullptr);
    ASSERT_TRUE(t->Truncate(0).ok());
    RefTree ref;
    Grow(t.get(), &ref, n);
    ASSERT_TRUE(t->Sync().ok());
    ASSERT_TRUE(t->Close().ok());
    t = OpenTree();
    ASSERT_NE(t, nullptr);
    ASSERT_EQ(t->Size(), n);
    EXPECT_EQ(SegmentSize(), ahtree::RecordOffset(n + 1));
    // The rebuilt frontier must give the same digests as a never-closed tree.
    Grow(t.get(), &ref, n + 40);
    for (uint64_t j = 1; j <= ref.size(); j++) {
      ASSERT_EQ(ToHex(t->RootAt(j).value()), ToHex(ref.R(1, j))) << j;
      CheckPair(*t, ref, std::max<uint64_t>(1, j / 2), j);
      CheckPair(*t, ref, j, j);
    }
    ASSERT_TRUE(t->Close().ok());
  }
}

TEST_P(AHTreeTest, ShortLastRecordIsCutOnOpen) {
  RefTree ref;
  ASSERT_NO_FATAL_FAILURE(WriteAndClose(&ref, 12));
  // Leaf 12's record is 3 digests + CRC; keep all but its last 5 bytes.
  RewriteSegment(ahtree::RecordOffset(13) - 5, ~uint64_t{0});
  auto t = OpenTree();
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->Size(), 11u);
  EXPECT_EQ(SegmentSize(), ahtree::RecordOffset(12));
  // Appending leaf 12 again rebuilds it from the reloaded frontier.
  ASSERT_TRUE(t->Append(testutil::SpecA1Alh(12)).ok());
  CheckAll(*t, ref);
}

TEST_P(AHTreeTest, TornTailRepairThenAppendsMatchReference) {
  RefTree ref;
  ASSERT_NO_FATAL_FAILURE(WriteAndClose(&ref, 24));
  for (uint64_t cut = 1; cut < ahtree::RecordSize(24); cut += 7) {
    RewriteSegment(ahtree::RecordOffset(24) + cut, ~uint64_t{0});
    auto t = OpenTree();
    ASSERT_NE(t, nullptr);
    ASSERT_EQ(t->Size(), 23u);
    ASSERT_EQ(SegmentSize(), ahtree::RecordOffset(24));
    ASSERT_TRUE(t->Append(testutil::SpecA1Alh(24)).ok());
    ASSERT_EQ(ToHex(t->RootAt(24).value()), ToHex(ref.R(1, 24)));
    ASSERT_TRUE(t->Close().ok());
  }
}

TEST_P(AHTreeTest, BadChecksumInLastRecordIsCutOnOpen) {
  RefTree ref;
  ASSERT_NO_FATAL_FAILURE(WriteAndClose(&ref, 20));
  for (uint64_t at : {uint64_t{0}, uint64_t{40}, ahtree::RecordSize(20) - 1}) {
    SCOPED_TRACE(at);
    RewriteSegment(ahtree::RecordOffset(21), ahtree::RecordOffset(20) + at);
    auto t = OpenTree();
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->Size(), 19u);
    EXPECT_EQ(SegmentSize(), ahtree::RecordOffset(20));
    ASSERT_TRUE(t->Append(testutil::SpecA1Alh(20)).ok());
    ASSERT_EQ(ToHex(t->RootAt(20).value()), ToHex(ref.R(1, 20)));
    CheckPair(*t, ref, 3, 20);
    ASSERT_TRUE(t->Close().ok());
  }
}

// Damage before the torn window (here: one write of 64 bytes + the largest
// record) is not a torn write.
TEST_P(AHTreeTest, FlippedByteInEarlierRecordIsCorruptionWhenRead) {
  opts_.write_buffer_size = 64;
  RefTree ref;
  ASSERT_NO_FATAL_FAILURE(WriteAndClose(&ref, 100));
  // Leaf 3 is not on the frontier of 100 (leaves 64, 96, 100), so open succeeds.
  const uint64_t off = ahtree::RecordOffset(3) + 10;
  RewriteSegment(ahtree::RecordOffset(101), off);
  auto t = OpenTree();
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->Size(), 100u);
  Result<Hash> r = t->RootAt(3);
  ASSERT_TRUE(r.status().IsCorruption()) << r.status().ToString();
  EXPECT_NE(r.status().message().find(SegmentPath()), std::string::npos) << r.status().ToString();
  EXPECT_NE(r.status().message().find("offset " + std::to_string(ahtree::RecordOffset(3))),
            std::string::npos)
      << r.status().ToString();
  // INCL(4, 20) needs R(3, 3) = digest #0 of leaf 3.
  EXPECT_TRUE(t->InclusionProof(4, 20).status().IsCorruption());
  // Proofs not touching leaf 3 still work.
  CheckPair(*t, ref, 18, 20);
  CheckPair(*t, ref, 70, 100);
  EXPECT_TRUE(t->RootAt(16).ok());
}

TEST_P(AHTreeTest, FlippedByteInFrontierRecordIsCorruptionOnOpen) {
  opts_.write_buffer_size = 64;
  RefTree ref;
  ASSERT_NO_FATAL_FAILURE(WriteAndClose(&ref, 100));
  RewriteSegment(ahtree::RecordOffset(101), ahtree::RecordOffset(64) + 5);
  Result<std::unique_ptr<AHTree>> r = AHTree::Open(fs_, dir_, opts_);
  ASSERT_TRUE(r.status().IsCorruption()) << r.status().ToString();
  EXPECT_NE(r.status().message().find(SegmentPath()), std::string::npos);
}

// Inside the torn window, pages may have reached the disk in any order: the
// first bad record and every record after it are cut, even good-looking ones.
TEST_P(AHTreeTest, HoleInsideTornWindowCutsFromTheHole) {
  RefTree ref;
  ASSERT_NO_FATAL_FAILURE(WriteAndClose(&ref, 20));
  RewriteSegment(ahtree::RecordOffset(21), ahtree::RecordOffset(7) + 3);
  auto t = OpenTree();
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->Size(), 6u);
  EXPECT_EQ(SegmentSize(), ahtree::RecordOffset(7));
  for (uint64_t x = 7; x <= 20; x++) ASSERT_TRUE(t->Append(testutil::SpecA1Alh(x)).ok());
  CheckAll(*t, ref);
}

// A writer that syncs rarely widens the window: damage far from the end is
// then a torn tail too.
TEST_P(AHTreeTest, WideTornWindowCutsOlderDamage) {
  opts_.write_buffer_size = 64;
  RefTree ref;
  ASSERT_NO_FATAL_FAILURE(WriteAndClose(&ref, 100));
  RewriteSegment(ahtree::RecordOffset(101), ahtree::RecordOffset(3) + 10);
  opts_.torn_window = ahtree::RecordOffset(101);
  auto t = OpenTree();
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->Size(), 2u);
}

// A torn write may leave garbage over several records at the end: all are
// cut if they lie within the last write (one write buffer).
TEST_P(AHTreeTest, BadTrailingRecordsOfLastWriteAreCutOnOpen) {
  RefTree ref;
  ASSERT_NO_FATAL_FAILURE(WriteAndClose(&ref, 20));
  for (uint64_t x = 17; x <= 20; x++) {
    RewriteSegment(ahtree::RecordOffset(21), ahtree::RecordOffset(x) + 1);
  }
  auto t = OpenTree();
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->Size(), 16u);
  EXPECT_EQ(SegmentSize(), ahtree::RecordOffset(17));
  for (uint64_t x = 17; x <= 20; x++) ASSERT_TRUE(t->Append(testutil::SpecA1Alh(x)).ok());
  CheckAll(*t, ref);
}

// Damage reaching back further than one write buffer is not a torn write.
TEST_P(AHTreeTest, BadTrailingRecordsBeforeLastWriteAreCorruptionOnOpen) {
  opts_.write_buffer_size = 64;  // Torn window: 64 + 2084 bytes.
  RefTree ref;
  ASSERT_NO_FATAL_FAILURE(WriteAndClose(&ref, 100));
  const uint64_t end = ahtree::RecordOffset(101);
  uint64_t first_bad = 100;
  while (end - ahtree::RecordOffset(first_bad) <= 64 + ahtree::kMaxRecordSize) first_bad--;
  for (uint64_t x = first_bad; x <= 100; x++) {
    RewriteSegment(end, ahtree::RecordOffset(x) + 2);
  }
  Result<std::unique_ptr<AHTree>> r = AHTree::Open(fs_, dir_, opts_);
  ASSERT_TRUE(r.status().IsCorruption()) << r.status().ToString();
  EXPECT_NE(r.status().message().find(SegmentPath() + " offset " +
                                      std::to_string(ahtree::RecordOffset(first_bad))),
            std::string::npos)
      << r.status().ToString();
  // Nothing was cut.
  EXPECT_EQ(SegmentSize(), end);
  // One record less of damage is a torn write again.
  RewriteSegment(end, ahtree::RecordOffset(first_bad) + 2);
  auto t = OpenTree();
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->Size(), first_bad);
}

TEST_P(AHTreeTest, TruncateDropsLeavesAndAppendsContinue) {
  auto t = OpenTree();
  ASSERT_NE(t, nullptr);
  RefTree ref;
  Grow(t.get(), &ref, 50);
  EXPECT_EQ(t->Truncate(51).code(), StatusCode::kOutOfRange);
  ASSERT_TRUE(t->Truncate(37).ok());
  EXPECT_EQ(t->Size(), 37u);
  EXPECT_EQ(t->RootAt(38).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(SegmentSize(), ahtree::RecordOffset(38));
  // Different data after the cut: nothing of the old leaves 38..50 may leak.
  RefTree ref2;
  for (uint64_t x = 1; x <= 37; x++) ref2.Append(testutil::SpecA1Alh(x));
  Grow(t.get(), &ref2, 70, OtherAlh);
  CheckAll(*t, ref2);
  ASSERT_TRUE(t->Close().ok());
  t = OpenTree();
  ASSERT_NE(t, nullptr);
  CheckAll(*t, ref2);
  ASSERT_TRUE(t->Truncate(0).ok());
  EXPECT_EQ(t->Size(), 0u);
  // The appendable may drop the emptied segment file altogether.
  if (fs_->FileExists(SegmentPath())) {
    EXPECT_EQ(SegmentSize(), 0u);
  }
  RefTree ref3;
  Grow(t.get(), &ref3, 9, OtherAlh);
  CheckAll(*t, ref3);
}

TEST_P(AHTreeTest, BadArgumentsAreOutOfRange) {
  auto t = OpenTree();
  ASSERT_NE(t, nullptr);
  RefTree ref;
  Grow(t.get(), &ref, 5);
  EXPECT_EQ(t->RootAt(0).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(t->RootAt(6).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(t->InclusionProof(0, 1).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(t->InclusionProof(3, 2).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(t->InclusionProof(1, 6).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(t->ConsistencyProof(0, 5).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(t->ConsistencyProof(5, 4).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(t->ConsistencyProof(1, 6).status().code(), StatusCode::kOutOfRange);
}

TEST_P(AHTreeTest, RecordsSpanSmallSegments) {
  opts_.segment_size = 1000;  // Not a multiple of any record size.
  opts_.write_buffer_size = 300;
  auto t = OpenTree();
  ASSERT_NE(t, nullptr);
  RefTree ref;
  Grow(t.get(), &ref, 120);
  ASSERT_TRUE(t->Sync().ok());
  CheckAll(*t, ref);
  ASSERT_TRUE(t->Close().ok());
  t = OpenTree();
  ASSERT_NE(t, nullptr);
  Grow(t.get(), &ref, 140);
  CheckAll(*t, ref);
}

// A crash loses or tears unsynced writes: reopen keeps every synced leaf,
// gives a prefix whose proofs match the reference, and appends continue.
TEST_P(AHTreeTest, CrashKeepsSyncedLeavesAndRepairsTornTail) {
  testutil::FaultInjectionFileSystem ffs(fs_);
  opts_.write_buffer_size = 512;
  RefTree ref;
  for (uint64_t x = 1; x <= 90; x++) ref.Append(testutil::SpecA1Alh(x));
  for (uint64_t seed = 1; seed <= 24; seed++) {
    SCOPED_TRACE(seed);
    {
      auto r = AHTree::Open(&ffs, dir_, opts_);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      auto t = std::move(r).value();
      ASSERT_TRUE(t->Truncate(0).ok());
      for (uint64_t x = 1; x <= 40; x++) ASSERT_TRUE(t->Append(testutil::SpecA1Alh(x)).ok());
      ASSERT_TRUE(t->Sync().ok());
      for (uint64_t x = 41; x <= 90; x++) {
        ASSERT_TRUE(t->Append(testutil::SpecA1Alh(x)).ok());
        if (x % 7 == 0) {
          ASSERT_TRUE(t->Flush().ok());
        }
      }
      ffs.SetActive(false);  // Power cut: Close cannot write anything.
    }
    testutil::DropOptions drop;
    drop.tear_last_write = seed % 3 != 0;
    drop.garbage = seed % 2 == 0;
    drop.seed = seed;
    ASSERT_TRUE(ffs.DropUnsyncedData(drop).ok());
    ffs.SetActive(true);
    auto r = AHTree::Open(&ffs, dir_, opts_);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    auto t = std::move(r).value();
    const uint64_t size = t->Size();
    ASSERT_GE(size, 40u);
    ASSERT_LE(size, 90u);
    for (uint64_t j = 1; j <= size; j++) {
      ASSERT_EQ(ToHex(t->RootAt(j).value()), ToHex(ref.R(1, j))) << j;
    }
    for (uint64_t x = size + 1; x <= 90; x++) ASSERT_TRUE(t->Append(testutil::SpecA1Alh(x)).ok());
    CheckPair(*t, ref, 17, 90);
    CheckPair(*t, ref, 90, 90);
    ASSERT_TRUE(t->Sync().ok());
    ASSERT_TRUE(t->Close().ok());
  }
}

// After a failed write the tree refuses appends (its file and frontier may
// disagree); a reopen recovers a consistent prefix.
TEST_P(AHTreeTest, FailedWriteIsStickyUntilReopen) {
  for (testutil::FaultKind kind :
       {testutil::FaultKind::kIOError, testutil::FaultKind::kShortWrite}) {
    testutil::FaultInjectionFileSystem ffs(fs_);
    opts_.write_buffer_size = 200;  // Every few appends write to the file.
    RefTree ref;
    for (uint64_t x = 1; x <= 60; x++) ref.Append(testutil::SpecA1Alh(x));
    {
      auto r = AHTree::Open(&ffs, dir_, opts_);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      auto t = std::move(r).value();
      ASSERT_TRUE(t->Truncate(0).ok());
      ffs.FailNth(testutil::FaultOp::kAppend, 3, kind);
      uint64_t x = 1;
      while (t->Append(testutil::SpecA1Alh(x)).ok()) x++;
      ASSERT_LT(x, 60u);
      EXPECT_FALSE(t->Append(testutil::SpecA1Alh(x)).ok());
      EXPECT_EQ(t->Size(), x - 1);
      static_cast<void>(t->Close());
    }
    ffs.ClearFaults();
    auto r = AHTree::Open(&ffs, dir_, opts_);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    auto t = std::move(r).value();
    for (uint64_t j = 1; j <= t->Size(); j++) {
      ASSERT_EQ(ToHex(t->RootAt(j).value()), ToHex(ref.R(1, j))) << j;
    }
    for (uint64_t x = t->Size() + 1; x <= 60; x++)
      ASSERT_TRUE(t->Append(testutil::SpecA1Alh(x)).ok());
    CheckPair(*t, ref, 5, 60);
    ASSERT_TRUE(t->Close().ok());
  }
}

TEST_P(AHTreeTest, ConcurrentReadersSeeConsistentProofsDuringAppends) {
  opts_.write_buffer_size = 4096;  // Flush often, so reads cross buffer and files.
  auto t = OpenTree();
  ASSERT_NE(t, nullptr);
  const uint64_t n = 2000;
  RefTree ref;
  for (uint64_t x = 1; x <= n; x++) ref.Append(testutil::SpecA1Alh(x));
  std::vector<Hash> roots(n + 1);
  for (uint64_t j = 1; j <= n; j++) roots[j] = ref.R(1, j);

  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::atomic<uint64_t> reads{0};
  auto reader = [&](uint64_t seed) {
    std::mt19937_64 rng(seed);
    while (!done.load()) {
      const uint64_t size = t->Size();
      if (size == 0) continue;
      const uint64_t j = 1 + rng() % size, i = 1 + rng() % j;
      Result<Hash> r = t->RootAt(j);
      Result<std::vector<Hash>> incl = t->InclusionProof(i, j);
      Result<std::vector<Hash>> cons = t->ConsistencyProof(i, j);
      if (!r.ok() || !incl.ok() || !cons.ok() || *r != roots[j] ||
          !VerifyIncl(*incl, i, j, LeafHash(testutil::SpecA1Alh(i)), roots[j]) ||
          !VerifyCons(*cons, i, j, roots[i], roots[j])) {
        failures++;
      }
      reads++;
    }
  };
  std::thread r1(reader, 1), r2(reader, 2);
  uint64_t seen = 0;
  for (uint64_t x = 1; x <= n; x++) {
    ASSERT_TRUE(t->Append(testutil::SpecA1Alh(x)).ok());
    if (x % 64 == 0) {
      ASSERT_TRUE(t->Flush().ok());
    }
    if (x % 256 == 0) {
      // On a loaded machine the readers may not run at all while a fast
      // writer appends: wait for some reads so they overlap the appends.
      while (reads.load() == seen) std::this_thread::yield();
      seen = reads.load();
    }
  }
  done = true;
  r1.join();
  r2.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(reads.load(), 0u);
}

// ---- The block cache (the upper levels' digests in memory) ----

// Proofs through the block cache equal the reference and the proofs of a tree
// without it, for random sizes and budgets that put its lowest level at 0, in
// the middle or nowhere; after a reopen (blocks read from disk and learned)
// and again once learned; one Proofs call equals the single calls.
TEST_P(AHTreeTest, BlockCacheProofsMatchUncachedAcrossReopen) {
  std::mt19937_64 rng(testutil::TestSeed());
  for (uint64_t budget : {uint64_t{0}, uint64_t{1} << 10, uint64_t{6} << 10, uint64_t{64} << 20}) {
    SCOPED_TRACE(budget);
    const uint64_t n = 1 + rng() % 3000;
    SCOPED_TRACE(n);
    // The tree under test at dir_, one without a block cache beside it.
    opts_.block_cache_bytes = budget;
    auto t = OpenTree();
    ASSERT_NE(t, nullptr);
    ASSERT_TRUE(t->Truncate(0).ok());
    AHTreeOptions plain_opts = opts_;
    plain_opts.block_cache_bytes = 0;
    const std::string plain_dir = dir_ + "-plain";
    auto plain = AHTree::Open(fs_, plain_dir, plain_opts);
    ASSERT_TRUE(plain.ok()) << plain.status().ToString();
    ASSERT_TRUE((*plain)->Truncate(0).ok());
    RefTree ref;
    Grow(t.get(), &ref, n);
    for (uint64_t x = 1; x <= n; x++) ASSERT_TRUE((*plain)->Append(testutil::SpecA1Alh(x)).ok());
    if (budget == 0) {
      EXPECT_EQ(t->CacheStats().block_cache_bytes, 0u);
    }
    EXPECT_LE(t->CacheStats().block_cache_bytes, budget);

    std::vector<std::pair<uint64_t, uint64_t>> pairs;
    for (int k = 0; k < 300; k++) {
      const uint64_t j = 1 + rng() % n, i = 1 + rng() % j;
      pairs.emplace_back(i, j);
    }
    pairs.emplace_back(1, n);
    pairs.emplace_back(n, n);
    auto check_all = [&](const AHTree& tree) {
      for (auto [i, j] : pairs) {
        CheckPair(tree, ref, i, j);
        ASSERT_EQ(Hex(tree.InclusionProof(i, j).value()),
                  Hex((*plain)->InclusionProof(i, j).value()));
        ASSERT_EQ(Hex(tree.ConsistencyProof(i, j).value()),
                  Hex((*plain)->ConsistencyProof(i, j).value()));
        // The three proofs of a dual proof, asked at once.
        using Kind = AHTreeProofSpec::Kind;
        const uint64_t c = i > 1 ? i - 1 : 1;
        // With the leaf hash of i, as a VerifiableGet asks for it.
        auto all = tree.Proofs({{Kind::kInclusion, i, j},
                                {Kind::kConsistency, c, j},
                                {Kind::kInclusion, j, j},
                                {Kind::kLeaf, i, i}});
        ASSERT_TRUE(all.ok()) << all.status().ToString();
        ASSERT_EQ(all->size(), 4u);
        ASSERT_EQ(Hex((*all)[0]), Hex(ref.Incl(i, j)));
        ASSERT_EQ(Hex((*all)[1]), Hex(ref.Cons(c, j)));
        ASSERT_EQ(Hex((*all)[2]), Hex(ref.Incl(j, j)));
        ASSERT_EQ(Hex((*all)[3]), Hex({LeafHash(testutil::SpecA1Alh(i))}));
      }
    };
    check_all(*t);  // Blocks from the appends.
    ASSERT_TRUE(t->Close().ok());
    t = OpenTree();
    ASSERT_NE(t, nullptr);
    const AHTreeCacheStats cold = t->CacheStats();
    EXPECT_EQ(cold.block_cache_digests, 0u);
    check_all(*t);  // Blocks read from their records.
    const AHTreeCacheStats learned = t->CacheStats();
    if (budget != 0 && cold.block_cache_min_level < 64) {
      EXPECT_GT(learned.block_cache_digests, 0u);
    }
    check_all(*t);  // Blocks learned by the reads above.
    // Appends after the reopen extend the levels the reads filled in part.
    Grow(t.get(), &ref, n + 100);
    for (uint64_t x = n + 1; x <= n + 100; x++)
      ASSERT_TRUE((*plain)->Append(testutil::SpecA1Alh(x)).ok());
    pairs.emplace_back(1, n + 100);
    pairs.emplace_back(n / 2 + 1, n + 100);
    check_all(*t);
    ASSERT_TRUE(t->Close().ok());
    ASSERT_TRUE((*plain)->Close().ok());
  }
}

// The block cache stays within its budget as the tree grows, dropping its
// lowest level when needed, and keeps serving correct proofs.
TEST_P(AHTreeTest, BlockCacheStaysWithinItsBudget) {
  const uint64_t budget = 4096;
  opts_.block_cache_bytes = budget;
  auto t = OpenTree();
  ASSERT_NE(t, nullptr);
  RefTree ref;
  int level = t->CacheStats().block_cache_min_level;
  EXPECT_EQ(level, 4);  // An empty tree fits from the lowest level held up.
  for (uint64_t n = 1; n <= 6000; n++) {
    Grow(t.get(), &ref, n);
    const AHTreeCacheStats st = t->CacheStats();
    ASSERT_LE(st.block_cache_bytes, budget) << n;
    ASSERT_GE(st.block_cache_min_level, level) << n;
    level = st.block_cache_min_level;
  }
  // 6000 leaves need 2 * 6000 / 2^k digests of 32 bytes at level k and up.
  EXPECT_GE(level, 6);
  EXPECT_LT(level, 64);
  EXPECT_GT(t->CacheStats().block_cache_digests, 0u);
  CheckPair(*t, ref, 1, 6000);
  CheckPair(*t, ref, 4321, 5999);
  ASSERT_TRUE(t->Close().ok());
  t = OpenTree();
  ASSERT_NE(t, nullptr);
  EXPECT_LE(t->CacheStats().block_cache_bytes, budget);
  CheckPair(*t, ref, 17, 6000);
  EXPECT_LE(t->CacheStats().block_cache_bytes, budget);
}

// A damaged record is Corruption every time a proof needs it: the digests of
// a record that fails its checksum are never cached.
TEST_P(AHTreeTest, DamagedRecordIsNotLearnedByTheBlockCache) {
  opts_.write_buffer_size = 64;
  RefTree ref;
  ASSERT_NO_FATAL_FAILURE(WriteAndClose(&ref, 1000));
  // Leaf 256's record holds R(1, 256) (digest #8); 256 is not on the frontier
  // of 1000 (leaves 512, 768, 896, 960, 992, 1000), so open does not read it.
  RewriteSegment(ahtree::RecordOffset(1001), ahtree::RecordOffset(256) + 8 * 32 + 5);
  // And leaf 250's, which lies among the records INCL(255, 255) reads (248,
  // 252, 254) but holds none of its terms.
  RewriteSegment(ahtree::RecordOffset(1001), ahtree::RecordOffset(250) + 3);
  auto t = OpenTree();
  ASSERT_NE(t, nullptr);
  for (int round = 0; round < 2; round++) {
    // INCL(300, 1000) and CONS(256, 1000) need R(1, 256).
    EXPECT_TRUE(t->InclusionProof(300, 1000).status().IsCorruption());
    EXPECT_TRUE(t->ConsistencyProof(256, 1000).status().IsCorruption());
    using Kind = AHTreeProofSpec::Kind;
    EXPECT_TRUE(t->Proofs({{Kind::kInclusion, 600, 1000}, {Kind::kInclusion, 300, 1000}})
                    .status()
                    .IsCorruption());
  }
  EXPECT_TRUE(t->InclusionProof(249, 255).status().IsCorruption());  // R(250, 250).
  // Proofs that do not need them still serve, reading around them or not.
  CheckPair(*t, ref, 255, 255);
  CheckPair(*t, ref, 600, 1000);
  CheckPair(*t, ref, 513, 1000);
  EXPECT_TRUE(t->InclusionProof(249, 255).status().IsCorruption());  // R(250, 250).
}

// Readers of a reopened tree learn blocks while the writer appends and the
// cache drops its lowest levels to stay in a small budget.
TEST_P(AHTreeTest, ConcurrentReadersWhileTheBlockCacheDropsLevels) {
  opts_.write_buffer_size = 4096;
  opts_.block_cache_bytes = 3000;
  const uint64_t n0 = 500, n = 4000;
  RefTree ref;
  for (uint64_t x = 1; x <= n; x++) ref.Append(testutil::SpecA1Alh(x));
  std::vector<Hash> roots(n + 1);
  for (uint64_t j = 1; j <= n; j++) roots[j] = ref.R(1, j);
  {
    auto t = OpenTree();
    ASSERT_NE(t, nullptr);
    for (uint64_t x = 1; x <= n0; x++) ASSERT_TRUE(t->Append(testutil::SpecA1Alh(x)).ok());
    ASSERT_TRUE(t->Close().ok());
  }
  auto t = OpenTree();
  ASSERT_NE(t, nullptr);
  const int level0 = t->CacheStats().block_cache_min_level;
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::atomic<uint64_t> reads{0};
  auto reader = [&](uint64_t seed) {
    std::mt19937_64 rng(seed);
    using Kind = AHTreeProofSpec::Kind;
    while (!done.load()) {
      const uint64_t size = t->Size();
      const uint64_t j = 1 + rng() % size, i = 1 + rng() % j;
      auto p = t->Proofs({{Kind::kInclusion, i, j}, {Kind::kConsistency, i, j}});
      if (!p.ok() || !VerifyIncl((*p)[0], i, j, LeafHash(testutil::SpecA1Alh(i)), roots[j]) ||
          !VerifyCons((*p)[1], i, j, roots[i], roots[j])) {
        failures++;
      }
      reads++;
    }
  };
  std::thread r1(reader, 3), r2(reader, 4);
  uint64_t seen = 0;
  for (uint64_t x = n0 + 1; x <= n; x++) {
    ASSERT_TRUE(t->Append(testutil::SpecA1Alh(x)).ok());
    if (x % 128 == 0) {
      while (reads.load() == seen) std::this_thread::yield();
      seen = reads.load();
    }
  }
  done = true;
  r1.join();
  r2.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(t->CacheStats().block_cache_min_level, level0);
  EXPECT_LE(t->CacheStats().block_cache_bytes, 3000u);
}

// After a reopen, readers on several threads learn the same blocks from the
// records they read at once: every proof stays right, and each block is
// counted once however many readers added it.
TEST_P(AHTreeTest, ConcurrentReadersLearnBlocksAfterReopen) {
  const uint64_t n = 5000;
  opts_.block_cache_bytes = 1 << 20;
  auto t = OpenTree();
  ASSERT_NE(t, nullptr);
  RefTree ref;
  Grow(t.get(), &ref, n);
  ASSERT_TRUE(t->Close().ok());
  t = OpenTree();
  ASSERT_NE(t, nullptr);
  const AHTreeCacheStats cold = t->CacheStats();
  ASSERT_EQ(cold.block_cache_digests, 0u);
  ASSERT_LT(cold.block_cache_min_level, 64);
  std::vector<Hash> roots(n + 1);
  for (uint64_t j = 1; j <= n; j++) roots[j] = ref.R(1, j);

  std::atomic<int> failures{0};
  auto reader = [&](uint64_t seed) {
    std::mt19937_64 rng(seed);
    for (int k = 0; k < 3000; k++) {
      // Few distinct targets, so the readers keep adding the same blocks.
      const uint64_t j = n - rng() % 4, i = 1 + rng() % j;
      Result<std::vector<Hash>> incl = t->InclusionProof(i, j);
      Result<std::vector<Hash>> cons = t->ConsistencyProof(i, j);
      if (!incl.ok() || !cons.ok() ||
          !VerifyIncl(*incl, i, j, LeafHash(testutil::SpecA1Alh(i)), roots[j]) ||
          !VerifyCons(*cons, i, j, roots[i], roots[j])) {
        failures++;
      }
    }
  };
  std::vector<std::thread> readers;
  for (uint64_t r = 1; r <= 4; r++) readers.emplace_back(reader, r);
  for (std::thread& r : readers) r.join();
  EXPECT_EQ(failures.load(), 0);

  // No more digests than blocks at the levels held.
  const AHTreeCacheStats learned = t->CacheStats();
  uint64_t blocks = 0;
  for (int h = learned.block_cache_min_level; h < 64; h++) blocks += n >> h;
  EXPECT_GT(learned.block_cache_digests, 0u);
  EXPECT_LE(learned.block_cache_digests, blocks);
  // The learned blocks give the same proofs as the reference.
  for (uint64_t i = 1; i <= n; i += 97) CheckPair(*t, ref, i, n);
  ASSERT_TRUE(t->Close().ok());
}

}  // namespace
}  // namespace immudb
