#include "htree/htree.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "immudb/verify.h"
#include "testutil/reference_aht.h"
#include "testutil/test_util.h"
#include "util/coding.h"

namespace immudb {
namespace {

std::vector<std::string> Hexes(const std::vector<Hash>& hs) {
  std::vector<std::string> out;
  for (const Hash& h : hs) out.push_back(ToHex(h));
  return out;
}

TEST(HTreeTest, H1Roots) {
  const std::pair<size_t, const char*> want[] = {
      {1, "aea833068048b82f42271c18e0076a5230cbc7d711c99de16a5917db14a3b044"},
      {2, "839757d78394f8ad59bc4621831d92396f5d3556fe0059846463a32a21dc9e04"},
      {3, "cc23a6e05f95099459e4b62703c223236972a78997b072a65500b30e26bb6ef3"},
      {5, "aa33f608b3c7398a5230804ae5bf2cbe372e3e517eab55ef21d7e8a1318b00d9"},
      {7, "3bae604504fcab1978311ba9984633ad88b8c104832990123345db6c816b77c8"},
      {8, "4f8510360e29047dc8a13d94eae1a0c1b13b9a9debcb179fea8f696965c9591a"},
  };
  HTree tree;
  for (const auto& [n, root] : want) {
    std::vector<Hash> d = testutil::SpecH1Digests(n);
    tree.Build(d);
    EXPECT_EQ(ToHex(tree.Root()), root) << "n=" << n;
    EXPECT_EQ(ToHex(HTreeRoot(d)), root) << "n=" << n;
    EXPECT_EQ(ToHex(testutil::ReferenceHtreeRoot(d)), root) << "n=" << n;
  }
}

TEST(HTreeTest, H1InclusionProofs) {
  HTree tree;
  std::vector<Hash> d = testutil::SpecH1Digests(5);
  tree.Build(d);
  const std::pair<size_t, std::vector<std::string>> want[] = {
      {0,
       {"277dddee83152dcc8ba5f7ab96e552f178c2fee48d0b81982597f0d743f675f7",
        "4ba953f3b364e787f88dfd1c4b88165a48585a7a1dd77d59ecc2fdeb4718ee6d",
        "1dd18a67014a2f7f605953bcde923137e4b0d66bdee5b22202e765382ba49f5d"}},
      {3,
       {"31080021493300afc0c17832dd7128ccdd46c9289582e6aa1483be1367a0e859",
        "839757d78394f8ad59bc4621831d92396f5d3556fe0059846463a32a21dc9e04",
        "1dd18a67014a2f7f605953bcde923137e4b0d66bdee5b22202e765382ba49f5d"}},
      {4, {"f429b955064dbbcf878a6b817cb02740f0a30f42a1d770195addb021b45b8fdd"}},
  };
  for (const auto& [leaf, terms] : want) {
    Result<InclusionProof> p = tree.Proof(leaf);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->leaf, leaf);
    EXPECT_EQ(p->width, 5u);
    EXPECT_EQ(Hexes(p->terms), terms) << "leaf " << leaf;
    EXPECT_TRUE(verify::VerifyHtreeInclusion(*p, d[leaf], tree.Root()));
  }
}

TEST(HTreeTest, EmptyTreeHasEmptyHashRootAndNoProofs) {
  HTree tree;
  tree.Build({});
  EXPECT_EQ(tree.Root(), EmptyHash());
  EXPECT_EQ(tree.width(), 0u);
  EXPECT_EQ(tree.Proof(0).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(HTreeRoot({}), EmptyHash());
}

TEST(HTreeTest, ProofOutOfRange) {
  HTree tree;
  std::vector<Hash> d = testutil::SpecH1Digests(3);
  tree.Build(d);
  EXPECT_EQ(tree.Proof(3).status().code(), StatusCode::kOutOfRange);
  EXPECT_TRUE(tree.Proof(2).ok());
  EXPECT_TRUE(tree.Proof(1)->terms.size() == 2);
}

// Random digests, every size 0..300, one tree object reused (shrinking and
// growing) so stale levels from an earlier build would show up.
TEST(HTreeTest, MatchesReferenceOnAllSizesUpTo300) {
  std::mt19937_64 rng(testutil::TestSeed());
  HTree tree;
  std::vector<size_t> sizes;
  for (size_t n = 0; n <= 300; n++) sizes.push_back(n);
  std::shuffle(sizes.begin(), sizes.end(), rng);
  for (size_t n : sizes) {
    std::vector<Hash> d(n);
    for (Hash& h : d) {
      for (uint8_t& b : h) b = static_cast<uint8_t>(rng());
    }
    tree.Build(d);
    const Hash root = testutil::ReferenceHtreeRoot(d);
    ASSERT_EQ(tree.Root(), root) << "n=" << n;
    ASSERT_EQ(HTreeRoot(d), root) << "n=" << n;
    ASSERT_EQ(tree.width(), n);
    // Every leaf of the small trees; a sample of the large ones (the
    // reference path costs O(n) hashes).
    std::vector<size_t> leaves;
    for (size_t i = 0; i < n; i += n <= 100 ? 1 : 7) leaves.push_back(i);
    if (n > 0) leaves.push_back(n - 1);
    for (size_t i : leaves) {
      Result<InclusionProof> p = tree.Proof(i);
      ASSERT_TRUE(p.ok());
      ASSERT_EQ(p->terms, testutil::ReferenceHtreePath(d, i)) << "n=" << n << " i=" << i;
      ASSERT_TRUE(verify::VerifyHtreeInclusion(*p, d[i], root)) << "n=" << n << " i=" << i;
    }
  }
}

}  // namespace
}  // namespace immudb
