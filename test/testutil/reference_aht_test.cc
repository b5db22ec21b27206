#include "testutil/reference_aht.h"

#include <gtest/gtest.h>

#include <bit>
#include <string>
#include <vector>

#include "immudb/verify.h"
#include "util/coding.h"

namespace immudb::testutil {
namespace {

std::vector<std::string> Hexes(const std::vector<Hash>& hs) {
  std::vector<std::string> out;
  for (const Hash& h : hs) out.push_back(ToHex(h));
  return out;
}

TEST(ReferenceAhtTest, A1Roots) {
  ReferenceAht t = SpecA1Tree(8);
  EXPECT_EQ(t.size(), 8u);
  for (uint64_t n = 1; n <= 8; n++) EXPECT_EQ(ToHex(t.Root(n)), kSpecA1Roots[n - 1]) << "n=" << n;
  EXPECT_EQ(t.Root(0), ZeroHash());
}

TEST(ReferenceAhtTest, A1InclusionProofs) {
  ReferenceAht t = SpecA1Tree(8);
  EXPECT_EQ(Hexes(t.Inclusion(3, 7)),
            (std::vector<std::string>{
                "6cbd826c65162cb54c352b9c4ce58949e92c170aedd61d285be554e9cca8cd85",
                "97fb4d8a537f756a91ffd0f4a38a2b5cfdd8920eac175fd661a9fdc792d520c9",
                "b4b37b8565aadc4937a54d58326fec7ffa3d3eaf22e5d326c89b0edf642f332c"}));
  EXPECT_EQ(Hexes(t.Inclusion(1, 8)),
            (std::vector<std::string>{
                "530d467bd291897e311bca4c30c8cad361cf387374f108ba7dba47d76d3f1ed2",
                "e92158988bb0c3203978a69f8077bfb814bb096cb005bf3558d1d46209e85f29",
                "24a7082ad6b2b025a072b34fa4b0ae94d3eed204ae932e708b20b0351a2d1db0"}));
  EXPECT_EQ(Hexes(t.Inclusion(6, 6)),
            (std::vector<std::string>{
                "1743a66b453ae9dd1c199b5ea8bf1faec863248a85210d83b33c72b29438511f",
                "6789b343d4139164b9e22885f69fbf83d15e80766ca67bfe1c82cbf9a039dfe7"}));
  EXPECT_EQ(Hexes(t.Inclusion(7, 7)),
            (std::vector<std::string>{
                "9b172c965a996e497a46ac0f3445898adbb747753aaa4055a4f4dff814ec4b79",
                "6789b343d4139164b9e22885f69fbf83d15e80766ca67bfe1c82cbf9a039dfe7"}));
  EXPECT_TRUE(t.Inclusion(1, 1).empty());
}

TEST(ReferenceAhtTest, A1ConsistencyProofs) {
  ReferenceAht t = SpecA1Tree(8);
  EXPECT_EQ(Hexes(t.Consistency(3, 7)),
            (std::vector<std::string>{
                "f3308095a389d92856cc87d551c667c5b3518b00cbe224328abdbbedebe27866",
                "6cbd826c65162cb54c352b9c4ce58949e92c170aedd61d285be554e9cca8cd85",
                "97fb4d8a537f756a91ffd0f4a38a2b5cfdd8920eac175fd661a9fdc792d520c9",
                "b4b37b8565aadc4937a54d58326fec7ffa3d3eaf22e5d326c89b0edf642f332c"}));
  EXPECT_EQ(Hexes(t.Consistency(4, 7)),
            (std::vector<std::string>{
                "6789b343d4139164b9e22885f69fbf83d15e80766ca67bfe1c82cbf9a039dfe7",
                "b4b37b8565aadc4937a54d58326fec7ffa3d3eaf22e5d326c89b0edf642f332c"}));
  EXPECT_EQ(Hexes(t.Consistency(2, 8)),
            (std::vector<std::string>{
                "97fb4d8a537f756a91ffd0f4a38a2b5cfdd8920eac175fd661a9fdc792d520c9",
                "e92158988bb0c3203978a69f8077bfb814bb096cb005bf3558d1d46209e85f29",
                "24a7082ad6b2b025a072b34fa4b0ae94d3eed204ae932e708b20b0351a2d1db0"}));
  EXPECT_EQ(Hexes(t.Consistency(5, 5)),
            (std::vector<std::string>{
                "1743a66b453ae9dd1c199b5ea8bf1faec863248a85210d83b33c72b29438511f",
                "6789b343d4139164b9e22885f69fbf83d15e80766ca67bfe1c82cbf9a039dfe7"}));
  EXPECT_TRUE(t.Consistency(1, 1).empty());
}

// RFC 6962 §2.1.2 SUBPROOF over the leaf data of `t`, leaves [lo, hi).
std::vector<Hash> Rfc6962Subproof(const ReferenceAht& t, uint64_t m, uint64_t lo, uint64_t hi,
                                  bool whole) {
  const uint64_t n = hi - lo;
  if (m == n) return whole ? std::vector<Hash>{} : std::vector<Hash>{t.R(lo + 1, hi)};
  const uint64_t k = std::bit_floor(n - 1);
  std::vector<Hash> out;
  if (m <= k) {
    out = Rfc6962Subproof(t, m, lo, lo + k, whole);
    out.push_back(t.R(lo + k + 1, hi));
  } else {
    out = Rfc6962Subproof(t, m - k, lo + k, hi, false);
    out.push_back(t.R(lo + 1, lo + k));
  }
  return out;
}

// §4.4 / §4.6 characterisations: INCL is RFC 6962 PATH; CONS is RFC 6962
// PROOF with Root(i) prepended iff i is a power of two; CONS(j, j) has two
// terms [R(k+1, j), R(1, k)].
TEST(ReferenceAhtTest, MatchesRfc6962Definitions) {
  const uint64_t kMax = 40;
  ReferenceAht t = SpecA1Tree(kMax);
  std::vector<Hash> alhs;
  for (uint64_t x = 1; x <= kMax; x++) alhs.push_back(t.LeafData(x));
  for (uint64_t j = 1; j <= kMax; j++) {
    std::span<const Hash> prefix(alhs.data(), j);
    for (uint64_t i = 1; i <= j; i++) {
      ASSERT_EQ(t.Inclusion(i, j), ReferenceHtreePath(prefix, i - 1)) << i << "," << j;
      std::vector<Hash> cons = t.Consistency(i, j);
      if (i < j) {
        std::vector<Hash> want = Rfc6962Subproof(t, i, 0, j, true);
        if (std::has_single_bit(i)) want.insert(want.begin(), t.Root(i));
        ASSERT_EQ(cons, want) << i << "," << j;
      } else if (j == 1) {
        ASSERT_TRUE(cons.empty());
      } else {
        const uint64_t k = std::bit_floor(j - 1);
        ASSERT_EQ(cons, (std::vector<Hash>{t.R(k + 1, j), t.R(1, k)})) << j;
      }
    }
    ASSERT_EQ(t.Root(j), ReferenceHtreeRoot(prefix));
  }
}

TEST(ReferenceAhtTest, GeneratedProofsVerify) {
  const uint64_t kMax = 40;
  ReferenceAht t = SpecA1Tree(kMax);
  for (uint64_t j = 1; j <= kMax; j++) {
    const Hash root_j = t.Root(j);
    for (uint64_t i = 1; i <= j; i++) {
      ASSERT_TRUE(verify::VerifyInclusion(t.Inclusion(i, j), i, j, t.Leaf(i), root_j))
          << i << "," << j;
      ASSERT_TRUE(verify::VerifyConsistency(t.Consistency(i, j), i, j, t.Root(i), root_j))
          << i << "," << j;
    }
    ASSERT_TRUE(verify::VerifyLastInclusion(t.Inclusion(j, j), j, t.Leaf(j), root_j)) << j;
  }
}

}  // namespace
}  // namespace immudb::testutil
