// Round trips and mutations for the htree, AHT and linear proof verifiers.
// Dual and linear advance proofs are in dual_proof_test.cc.

#include "immudb/verify.h"

#include <gtest/gtest.h>

#include <limits>
#include <random>
#include <string>
#include <vector>

#include "htree/htree.h"
#include "testutil/reference_aht.h"
#include "testutil/test_util.h"
#include "util/coding.h"

namespace immudb::verify {
namespace {

constexpr uint64_t kMaxU64 = std::numeric_limits<uint64_t>::max();

Hash Flip(Hash h, size_t bit) {
  h[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
  return h;
}

Hash RandomHash(std::mt19937_64& rng) {
  Hash h;
  for (uint8_t& b : h) b = static_cast<uint8_t>(rng());
  return h;
}

// Every proof one edit away from `p`: a flipped bit (three bit positions per
// term), a dropped term, an added term (random or duplicated) at each position.
std::vector<std::vector<Hash>> BrokenTwins(const std::vector<Hash>& p, std::mt19937_64& rng) {
  std::vector<std::vector<Hash>> out;
  for (size_t x = 0; x < p.size(); x++) {
    for (size_t bit : {size_t{0}, size_t{255}, static_cast<size_t>(rng() % 256)}) {
      out.push_back(p);
      out.back()[x] = Flip(p[x], bit);
    }
    out.push_back(p);
    out.back().erase(out.back().begin() + static_cast<ptrdiff_t>(x));
  }
  for (size_t x = 0; x <= p.size(); x++) {
    out.push_back(p);
    out.back().insert(out.back().begin() + static_cast<ptrdiff_t>(x), RandomHash(rng));
    if (x < p.size()) {
      out.push_back(p);
      out.back().insert(out.back().begin() + static_cast<ptrdiff_t>(x), p[x]);
    }
  }
  return out;
}

testutil::ReferenceAht RandomTree(uint64_t n, std::mt19937_64& rng) {
  testutil::ReferenceAht t;
  for (uint64_t x = 0; x < n; x++) t.Append(RandomHash(rng));
  return t;
}

// roots[n] is the root of the first n leaves of `t`, for n in 1..size
// (roots[0] is unused).
std::vector<Hash> RootsOf(const testutil::ReferenceAht& t, uint64_t size) {
  std::vector<Hash> roots(size + 1);
  for (uint64_t n = 1; n <= size; n++) roots[n] = t.Root(n);
  return roots;
}

// ---- htree ----

TEST(VerifyHtreeTest, AcceptsValidAndRejectsEveryBrokenTwin) {
  std::mt19937_64 rng(testutil::TestSeed());
  HTree tree;
  for (size_t n = 1; n <= 33; n++) {
    std::vector<Hash> d(n);
    for (Hash& h : d) h = RandomHash(rng);
    tree.Build(d);
    const Hash root = tree.Root();
    for (size_t i = 0; i < n; i++) {
      InclusionProof p = *tree.Proof(i);
      ASSERT_TRUE(VerifyHtreeInclusion(p, d[i], root));
      for (const std::vector<Hash>& twin : BrokenTwins(p.terms, rng)) {
        InclusionProof bad = p;
        bad.terms = twin;
        ASSERT_FALSE(VerifyHtreeInclusion(bad, d[i], root)) << "n=" << n << " i=" << i;
      }
      // Wrong digest, wrong root.
      ASSERT_FALSE(VerifyHtreeInclusion(p, Flip(d[i], 3), root));
      ASSERT_FALSE(VerifyHtreeInclusion(p, d[i], Flip(root, 200)));
      // Wrong leaf index, each with the digest that really sits there.
      for (size_t i2 = 0; i2 < n + 2; i2++) {
        if (i2 == i) continue;
        InclusionProof bad = p;
        bad.leaf = i2;
        ASSERT_FALSE(VerifyHtreeInclusion(bad, d[i], root)) << n << " " << i << "->" << i2;
        if (i2 < n) {
          ASSERT_FALSE(VerifyHtreeInclusion(bad, d[i2], root));
        }
      }
      // Wrong width, against the root of a tree of that width. (Pairing a
      // width with the root of another width proves nothing either way: a
      // Merkle verifier only checks that the terms hash to the root given.)
      for (size_t w2 = 1; w2 <= n + 2; w2++) {
        if (w2 == n) continue;
        InclusionProof bad = p;
        bad.width = w2;
        std::vector<Hash> d2 = d;
        d2.resize(w2, d[0]);
        ASSERT_FALSE(VerifyHtreeInclusion(bad, d[i], HTreeRoot(d2))) << n << "->" << w2;
      }
    }
  }
}

TEST(VerifyHtreeTest, HostileShapesAreRejectedWithoutCrashing) {
  const Hash d = Sha256Of("d");
  InclusionProof p;
  EXPECT_FALSE(VerifyHtreeInclusion(p, d, LeafHash(d)));  // width 0.
  p.width = 1;
  EXPECT_TRUE(VerifyHtreeInclusion(p, d, LeafHash(d)));
  p.leaf = 1;
  EXPECT_FALSE(VerifyHtreeInclusion(p, d, LeafHash(d)));  // leaf >= width.
  p.leaf = kMaxU64;
  p.width = kMaxU64;
  EXPECT_FALSE(VerifyHtreeInclusion(p, d, LeafHash(d)));
  p.terms.assign(64, d);
  EXPECT_FALSE(VerifyHtreeInclusion(p, d, LeafHash(d)));
  p.leaf = 0;
  p.terms.assign(100000, d);  // Rejected by the length check before hashing.
  EXPECT_FALSE(VerifyHtreeInclusion(p, d, LeafHash(d)));
}

// ---- AHT inclusion / last inclusion ----

TEST(VerifyAhtTest, InclusionAcceptsValidAndRejectsBrokenTwins) {
  std::mt19937_64 rng(testutil::TestSeed() + 1);
  const uint64_t kMax = 34;
  testutil::ReferenceAht t = RandomTree(kMax + 2, rng);
  const std::vector<Hash> roots = RootsOf(t, kMax + 2);
  for (uint64_t j = 1; j <= kMax; j++) {
    for (uint64_t i = 1; i <= j; i++) {
      const std::vector<Hash> p = t.Inclusion(i, j);
      ASSERT_TRUE(VerifyInclusion(p, i, j, t.Leaf(i), roots[j]));
      for (const std::vector<Hash>& twin : BrokenTwins(p, rng)) {
        ASSERT_FALSE(VerifyInclusion(twin, i, j, t.Leaf(i), roots[j])) << i << "," << j;
      }
      ASSERT_FALSE(VerifyInclusion(p, i, j, Flip(t.Leaf(i), 7), roots[j]));
      ASSERT_FALSE(VerifyInclusion(p, i, j, t.LeafData(i), roots[j]));  // Unhashed leaf.
      ASSERT_FALSE(VerifyInclusion(p, i, j, t.Leaf(i), Flip(roots[j], 9)));
      // Any other (i2, j2), with the genuine leaf and root for those indices.
      for (uint64_t j2 = 1; j2 <= kMax + 2; j2++) {
        for (uint64_t i2 = 0; i2 <= j2 + 1; i2++) {
          if (i2 == i && j2 == j) continue;
          const Hash leaf2 = (i2 >= 1 && i2 <= j2) ? t.Leaf(i2) : t.Leaf(i);
          ASSERT_FALSE(VerifyInclusion(p, i2, j2, leaf2, roots[j2])) << i << "," << j;
          ASSERT_FALSE(VerifyInclusion(p, i2, j2, t.Leaf(i), roots[j2])) << i << "," << j;
        }
      }
    }
  }
}

TEST(VerifyAhtTest, LastInclusionAcceptsValidAndRejectsBrokenTwins) {
  std::mt19937_64 rng(testutil::TestSeed() + 2);
  testutil::ReferenceAht t = RandomTree(70, rng);
  for (uint64_t i = 1; i <= 68; i++) {
    const std::vector<Hash> p = t.Inclusion(i, i);
    const Hash root = t.Root(i);
    ASSERT_TRUE(VerifyLastInclusion(p, i, t.Leaf(i), root));
    for (const std::vector<Hash>& twin : BrokenTwins(p, rng)) {
      ASSERT_FALSE(VerifyLastInclusion(twin, i, t.Leaf(i), root)) << i;
    }
    ASSERT_FALSE(VerifyLastInclusion(p, i, t.Leaf(i == 1 ? 2 : 1), root));
    for (uint64_t i2 = 0; i2 <= 70; i2++) {
      if (i2 == i) continue;
      if (i2 >= 1) {
        ASSERT_FALSE(VerifyLastInclusion(p, i2, t.Leaf(i2), t.Root(i2)));
      }
    }
  }
}

TEST(VerifyAhtTest, InclusionHostileInputs) {
  const Hash h = Sha256Of("x");
  const std::vector<Hash> none;
  const std::vector<Hash> many(70, h);
  EXPECT_FALSE(VerifyInclusion(none, 0, 0, h, h));
  EXPECT_FALSE(VerifyInclusion(none, 0, 5, h, h));
  EXPECT_FALSE(VerifyInclusion(none, 3, 2, h, h));
  EXPECT_FALSE(VerifyInclusion(none, 1, 2, h, h));
  EXPECT_TRUE(VerifyInclusion(none, 1, 1, h, h));
  EXPECT_FALSE(VerifyInclusion(many, 1, kMaxU64, h, h));
  EXPECT_FALSE(VerifyInclusion(many, kMaxU64, kMaxU64, h, h));
  EXPECT_FALSE(VerifyInclusion(many, kMaxU64 - 1, kMaxU64, h, h));
  // 64 terms is the real length for leaf 1 of a 2^64 - 1 leaf tree: it is
  // hashed (and fails), nothing overflows.
  const std::vector<Hash> sixty_four(64, h);
  EXPECT_FALSE(VerifyInclusion(sixty_four, 1, kMaxU64, h, h));
  EXPECT_FALSE(VerifyLastInclusion(none, 0, h, h));
  EXPECT_TRUE(VerifyLastInclusion(none, 1, h, h));
  EXPECT_FALSE(VerifyLastInclusion(many, kMaxU64, h, h));
  EXPECT_FALSE(VerifyLastInclusion(sixty_four, kMaxU64, h, h));
}

// ---- AHT consistency ----

TEST(VerifyAhtTest, ConsistencyAcceptsValidAndRejectsBrokenTwins) {
  std::mt19937_64 rng(testutil::TestSeed() + 3);
  const uint64_t kMax = 34;
  testutil::ReferenceAht t = RandomTree(kMax + 2, rng);
  const std::vector<Hash> roots = RootsOf(t, kMax + 2);
  for (uint64_t j = 1; j <= kMax; j++) {
    for (uint64_t i = 1; i <= j; i++) {
      const std::vector<Hash> p = t.Consistency(i, j);
      ASSERT_TRUE(VerifyConsistency(p, i, j, roots[i], roots[j]));
      for (const std::vector<Hash>& twin : BrokenTwins(p, rng)) {
        // Dropping both terms of CONS(j, j) leaves the plain "equal roots"
        // proof, which is valid.
        if (i == j && twin.empty()) continue;
        ASSERT_FALSE(VerifyConsistency(twin, i, j, roots[i], roots[j])) << i << "," << j;
      }
      ASSERT_FALSE(VerifyConsistency(p, i, j, Flip(roots[i], 1), roots[j]));
      ASSERT_FALSE(VerifyConsistency(p, i, j, roots[i], Flip(roots[j], 1)));
      for (uint64_t j2 = 1; j2 <= kMax + 2; j2++) {
        for (uint64_t i2 = 0; i2 <= j2 + 1; i2++) {
          if (i2 == i && j2 == j) continue;
          if (p.empty() && i2 == j2) continue;  // Equal sizes, equal roots: valid.
          const Hash r_i2 = (i2 >= 1 && i2 <= kMax + 2) ? roots[i2] : roots[i];
          ASSERT_FALSE(VerifyConsistency(p, i2, j2, r_i2, roots[j2]))
              << i << "," << j << " as " << i2 << "," << j2;
        }
      }
    }
  }
}

TEST(VerifyAhtTest, ConsistencyEqualSizes) {
  const Hash a = Sha256Of("a"), b = Sha256Of("b");
  const std::vector<Hash> none;
  EXPECT_TRUE(VerifyConsistency(none, 5, 5, a, a));
  EXPECT_FALSE(VerifyConsistency(none, 5, 5, a, b));
  EXPECT_TRUE(VerifyConsistency(none, 1, 1, a, a));
  EXPECT_FALSE(VerifyConsistency(none, 0, 0, a, a));
  EXPECT_FALSE(VerifyConsistency(none, 3, 2, a, a));
  EXPECT_FALSE(VerifyConsistency(none, 2, 3, a, a));
}

TEST(VerifyAhtTest, ConsistencyHostileInputs) {
  const Hash h = Sha256Of("x");
  const std::vector<Hash> many(70, h), sixty_four(64, h), one(1, h);
  for (uint64_t i :
       {uint64_t{1}, uint64_t{2}, kMaxU64 / 2, kMaxU64 / 2 + 1, kMaxU64 - 1, kMaxU64}) {
    EXPECT_FALSE(VerifyConsistency(many, i, kMaxU64, h, Flip(h, 0)));
    EXPECT_FALSE(VerifyConsistency(sixty_four, i, kMaxU64, h, Flip(h, 0)));
    EXPECT_FALSE(VerifyConsistency(one, i, kMaxU64, h, Flip(h, 0)));
  }
}

// ---- Linear proof ----

TEST(VerifyLinearTest, AcceptsValidAndRejectsMutations) {
  std::mt19937_64 rng(testutil::TestSeed() + 4);
  Result<testutil::ReferenceChain> chain = testutil::BuildSpecChain(1, 12);
  ASSERT_TRUE(chain.ok());
  for (uint64_t s = 1; s <= 12; s++) {
    for (uint64_t t = s; t <= 12; t++) {
      const LinearProof p = chain->Linear(s, t);
      const Hash& sa = chain->Alh(s);
      const Hash& ta = chain->Alh(t);
      ASSERT_TRUE(VerifyLinearProof(p, s, t, sa, ta));
      for (const std::vector<Hash>& twin : BrokenTwins(p.terms, rng)) {
        LinearProof bad = p;
        bad.terms = twin;
        ASSERT_FALSE(VerifyLinearProof(bad, s, t, sa, ta)) << s << "," << t;
      }
      ASSERT_FALSE(VerifyLinearProof(p, s, t, Flip(sa, 4), ta));
      ASSERT_FALSE(VerifyLinearProof(p, s, t, sa, Flip(ta, 4)));
      LinearProof bad = p;
      bad.source_tx_id++;
      ASSERT_FALSE(VerifyLinearProof(bad, s, t, sa, ta));
      bad = p;
      bad.target_tx_id++;
      ASSERT_FALSE(VerifyLinearProof(bad, s, t, sa, ta));
      // Consistent but wrong ids: the chain ids are hashed into each step.
      if (s > 1 && s < t) {
        bad = p;
        bad.source_tx_id--;
        bad.target_tx_id--;
        ASSERT_FALSE(VerifyLinearProof(bad, s - 1, t - 1, sa, ta));
      }
    }
  }
}

TEST(VerifyLinearTest, HostileInputs) {
  const Hash h = Sha256Of("x");
  LinearProof p;
  EXPECT_FALSE(VerifyLinearProof(p, 0, 0, h, h));
  p.terms = {h};
  EXPECT_FALSE(VerifyLinearProof(p, 0, 0, h, h));  // s == 0.
  p.source_tx_id = p.target_tx_id = 1;
  EXPECT_TRUE(VerifyLinearProof(p, 1, 1, h, h));
  p.source_tx_id = 1;
  p.target_tx_id = kMaxU64;
  EXPECT_FALSE(VerifyLinearProof(p, 1, kMaxU64, h, h));
  p.source_tx_id = kMaxU64;
  p.target_tx_id = kMaxU64;
  EXPECT_TRUE(VerifyLinearProof(p, kMaxU64, kMaxU64, h, h));
  p.source_tx_id = 5;
  p.target_tx_id = 4;
  EXPECT_FALSE(VerifyLinearProof(p, 5, 4, h, h));
  p.source_tx_id = 4;
  p.target_tx_id = 4;
  p.terms.clear();
  EXPECT_FALSE(VerifyLinearProof(p, 4, 4, h, h));
}

}  // namespace
}  // namespace immudb::verify
