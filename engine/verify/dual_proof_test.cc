// DualProof (proofs.md §5.3) and linear advance proof (§5.2) verification on
// the §8 chains and on chains whose BlTxID lags behind ID - 1.

#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <string>
#include <vector>

#include "immudb/verify.h"
#include "testutil/reference_aht.h"
#include "testutil/test_util.h"

namespace immudb::verify {
namespace {

using testutil::ReferenceChain;

Hash Flip(Hash h, size_t bit) {
  h[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
  return h;
}

std::vector<std::string> Hexes(const std::vector<Hash>& hs) {
  std::vector<std::string> out;
  for (const Hash& h : hs) out.push_back(ToHex(h));
  return out;
}

bool VerifyDual(const ReferenceChain& c, const DualProof& p, uint64_t s, uint64_t t) {
  return VerifyDualProof(p, s, t, c.Alh(s), c.Alh(t));
}

using Mutation = std::function<void(DualProof*)>;

// Edits to a term list that a verifier must notice: flip a bit in each term,
// drop each term, add a term at the front and at the back.
void AddListMutations(const std::string& name, std::vector<Hash> DualProof::*list,
                      const DualProof& p, std::vector<std::pair<std::string, Mutation>>* out) {
  const size_t n = (p.*list).size();
  for (size_t x = 0; x < n; x++) {
    out->push_back({name + " flip " + std::to_string(x),
                    [=](DualProof* d) { (d->*list)[x] = Flip((d->*list)[x], 17 * x + 3); }});
    out->push_back({name + " drop " + std::to_string(x), [=](DualProof* d) {
                      (d->*list).erase((d->*list).begin() + static_cast<ptrdiff_t>(x));
                    }});
  }
  out->push_back({name + " add front",
                  [=](DualProof* d) { (d->*list).insert((d->*list).begin(), Sha256Of("extra")); }});
  out->push_back(
      {name + " add back", [=](DualProof* d) { (d->*list).push_back(Sha256Of("extra")); }});
}

// Every single-field mutation of a dual proof; each must be rejected.
std::vector<std::pair<std::string, Mutation>> DualMutations(const DualProof& p) {
  std::vector<std::pair<std::string, Mutation>> m;
  for (auto hdr : {&DualProof::source_tx_header, &DualProof::target_tx_header}) {
    const std::string side = hdr == &DualProof::source_tx_header ? "source " : "target ";
    m.push_back({side + "id", [=](DualProof* d) { (d->*hdr).id++; }});
    m.push_back({side + "ts", [=](DualProof* d) { (d->*hdr).ts++; }});
    m.push_back({side + "version", [=](DualProof* d) { (d->*hdr).version ^= 1; }});
    m.push_back({side + "nentries", [=](DualProof* d) { (d->*hdr).nentries++; }});
    m.push_back({side + "eh", [=](DualProof* d) { (d->*hdr).eh = Flip((d->*hdr).eh, 5); }});
    m.push_back({side + "bl_tx_id", [=](DualProof* d) { (d->*hdr).bl_tx_id ^= 1; }});
    m.push_back(
        {side + "bl_root", [=](DualProof* d) { (d->*hdr).bl_root = Flip((d->*hdr).bl_root, 9); }});
    m.push_back({side + "prev_alh",
                 [=](DualProof* d) { (d->*hdr).prev_alh = Flip((d->*hdr).prev_alh, 0); }});
  }
  AddListMutations("inclusion", &DualProof::inclusion_proof, p, &m);
  AddListMutations("consistency", &DualProof::consistency_proof, p, &m);
  AddListMutations("last", &DualProof::last_inclusion_proof, p, &m);
  m.push_back({"target_bl_tx_alh",
               [](DualProof* d) { d->target_bl_tx_alh = Flip(d->target_bl_tx_alh, 100); }});
  m.push_back({"linear source", [](DualProof* d) { d->linear_proof.source_tx_id++; }});
  m.push_back({"linear target", [](DualProof* d) { d->linear_proof.target_tx_id--; }});
  for (size_t x = 0; x < p.linear_proof.terms.size(); x++) {
    m.push_back({"linear flip " + std::to_string(x), [=](DualProof* d) {
                   d->linear_proof.terms[x] = Flip(d->linear_proof.terms[x], 31);
                 }});
  }
  m.push_back({"linear drop", [](DualProof* d) { d->linear_proof.terms.pop_back(); }});
  m.push_back({"linear add", [](DualProof* d) { d->linear_proof.terms.push_back(Sha256Of("x")); }});
  if (p.linear_advance_proof) {
    const LinearAdvanceProof& adv = *p.linear_advance_proof;
    m.push_back({"advance absent", [](DualProof* d) { d->linear_advance_proof.reset(); }});
    for (size_t x = 0; x < adv.linear_proof_terms.size(); x++) {
      m.push_back({"advance term flip " + std::to_string(x), [=](DualProof* d) {
                     auto& terms = d->linear_advance_proof->linear_proof_terms;
                     terms[x] = Flip(terms[x], 77);
                   }});
    }
    m.push_back({"advance term add", [](DualProof* d) {
                   d->linear_advance_proof->linear_proof_terms.push_back(Sha256Of("x"));
                 }});
    for (size_t x = 0; x < adv.inclusion_proofs.size(); x++) {
      m.push_back({"advance incl flip " + std::to_string(x), [=](DualProof* d) {
                     auto& incl = d->linear_advance_proof->inclusion_proofs[x];
                     incl.back() = Flip(incl.back(), 1);
                   }});
      m.push_back({"advance incl drop " + std::to_string(x),
                   [=](DualProof* d) { d->linear_advance_proof->inclusion_proofs[x].pop_back(); }});
    }
    m.push_back({"advance incl missing",
                 [](DualProof* d) { d->linear_advance_proof->inclusion_proofs.pop_back(); }});
  }
  return m;
}

// Checks the proof for (s, t) verifies and every mutation of it is rejected;
// also that the wrong trusted values are rejected.
void CheckPair(const ReferenceChain& c, uint64_t s, uint64_t t) {
  const DualProof p = c.Dual(s, t);
  ASSERT_TRUE(VerifyDual(c, p, s, t)) << s << "," << t;
  for (const auto& [name, mutate] : DualMutations(p)) {
    DualProof bad = p;
    mutate(&bad);
    EXPECT_FALSE(VerifyDual(c, bad, s, t)) << s << "," << t << ": " << name;
  }
  EXPECT_FALSE(VerifyDualProof(p, s, t, Flip(c.Alh(s), 2), c.Alh(t)));
  EXPECT_FALSE(VerifyDualProof(p, s, t, c.Alh(s), Flip(c.Alh(t), 2)));
  EXPECT_FALSE(VerifyDualProof(p, t, s, c.Alh(t), c.Alh(s)) && s != t);
  if (s > 1) {
    EXPECT_FALSE(VerifyDualProof(p, s - 1, t, c.Alh(s - 1), c.Alh(t)));
  }
  if (t < c.size()) {
    EXPECT_FALSE(VerifyDualProof(p, s, t + 1, c.Alh(s), c.Alh(t + 1)));
  }
}

TEST(DualProofTest, C1Source3Target8MatchesSpec) {
  Result<ReferenceChain> c = testutil::BuildSpecChain(1);
  ASSERT_TRUE(c.ok());
  const DualProof p = c->Dual(3, 8);
  EXPECT_EQ(p.source_tx_header, c->Header(3));
  EXPECT_EQ(p.target_tx_header, c->Header(8));
  EXPECT_EQ(Hexes(p.inclusion_proof),
            (std::vector<std::string>{
                "c7dbfc8f893e6a593396608d05d71e3ad83a823a574c42a08fd3b05a9959541d",
                "6f5214d86af66a3196d21f67c5f73bcaa435e4ff307f598e492af075d9954056",
                "58329c6a55d0843773d80cca8034f43882a48c0e20758e9fe8bed4b74506d3ef"}));
  EXPECT_EQ(Hexes(p.consistency_proof),
            (std::vector<std::string>{
                "6f5214d86af66a3196d21f67c5f73bcaa435e4ff307f598e492af075d9954056",
                "19a3ace0316953058e95e14eca93c2fba922add95591d785ad9e83af8678d127",
                "58329c6a55d0843773d80cca8034f43882a48c0e20758e9fe8bed4b74506d3ef"}));
  EXPECT_EQ(ToHex(p.target_bl_tx_alh),
            "b521e827ef5ecf178543d57240dcb330ce5299c1b1109d899081ab066aab7831");
  EXPECT_EQ(Hexes(p.last_inclusion_proof),
            (std::vector<std::string>{
                "5eb43cb12bec8856355e1c9bd131b9fcf05af1dbd82fbd04fa6cbc7af7d26acf",
                "e8f6722a253741dda29f5263bf5b78ebfd8f90c1c22a2a5adb60f7b11e36fbbb"}));
  EXPECT_EQ(p.linear_proof.source_tx_id, 7u);
  EXPECT_EQ(p.linear_proof.target_tx_id, 8u);
  EXPECT_EQ(Hexes(p.linear_proof.terms),
            (std::vector<std::string>{
                "b521e827ef5ecf178543d57240dcb330ce5299c1b1109d899081ab066aab7831",
                "1bfbc57eb71d2f3aa1ef44143bd6f2ed4df2066d25c894f89f5deccfc2017014"}));
  EXPECT_FALSE(p.linear_advance_proof.has_value());
  EXPECT_TRUE(VerifyDual(*c, p, 3, 8));
}

// proofs.md §5.4: the proof shapes when BlTxID = ID - 1.
TEST(DualProofTest, ShapesWithBlTxIdIdMinusOne) {
  Result<ReferenceChain> c = testutil::BuildSpecChain(1);
  ASSERT_TRUE(c.ok());
  for (uint64_t s = 1; s <= 8; s++) {
    for (uint64_t t = s; t <= 8; t++) {
      const DualProof p = c->Dual(s, t);
      EXPECT_EQ(p.inclusion_proof.empty(), s + 2 > t) << s << "," << t;
      EXPECT_EQ(p.linear_proof.source_tx_id, s + 2 > t ? s : t - 1);
      EXPECT_EQ(p.target_bl_tx_alh, t == 1 ? ZeroHash() : c->Alh(t - 1));
      EXPECT_FALSE(p.linear_advance_proof.has_value());
    }
  }
}

TEST(DualProofTest, AllPairsOfC1AndC0VerifyAndBrokenTwinsAreRejected) {
  for (uint16_t version : {1, 0}) {
    Result<ReferenceChain> c = testutil::BuildSpecChain(version);
    ASSERT_TRUE(c.ok());
    for (uint64_t s = 1; s <= 8; s++) {
      for (uint64_t t = s; t <= 8; t++) CheckPair(*c, s, t);
    }
  }
}

TEST(DualProofTest, LongerChainAllPairs) {
  Result<ReferenceChain> c = testutil::BuildSpecChain(1, 24);
  ASSERT_TRUE(c.ok());
  for (uint64_t s = 1; s <= 24; s++) {
    for (uint64_t t = s; t <= 24; t++) ASSERT_TRUE(VerifyDual(*c, c->Dual(s, t), s, t));
  }
}

// A chain as written by immudb <= v1.4.0, whose AHT lagged: BlTxID grows in
// steps of `step`, so it trails ID - 1 by up to step - 1 + (step - 1).
Result<ReferenceChain> LaggingChain(uint64_t n, uint64_t step) {
  ReferenceChain c;
  for (uint64_t id = 1; id <= n; id++) {
    TxHeader hdr;
    hdr.ts = 1600000000 + static_cast<int64_t>(id);
    hdr.version = id % 2 == 0 ? 1 : 0;
    hdr.nentries = static_cast<uint32_t>(id);
    hdr.eh = Sha256Of("eh" + std::to_string(id));
    hdr.bl_tx_id = (id - 1) / step * step;
    IMMUDB_RETURN_IF_ERROR(c.AppendLinked(hdr));
  }
  return c;
}

TEST(DualProofTest, LaggingBlTxIdNeedsAndChecksLinearAdvanceProof) {
  for (uint64_t step : {2, 3, 5}) {
    Result<ReferenceChain> c = LaggingChain(17, step);
    ASSERT_TRUE(c.ok());
    int with_advance = 0;
    for (uint64_t s = 1; s <= c->size(); s++) {
      for (uint64_t t = s; t <= c->size(); t++) {
        if (c->Dual(s, t).linear_advance_proof) with_advance++;
        CheckPair(*c, s, t);
      }
    }
    EXPECT_GT(with_advance, 10) << "step " << step;
  }
}

TEST(LinearAdvanceProofTest, DirectAcceptAndReject) {
  Result<ReferenceChain> c = LaggingChain(20, 1);
  ASSERT_TRUE(c.ok());
  const uint64_t tree = 19;
  const Hash root = c->aht().Root(tree);
  for (uint64_t start = 0; start <= tree; start++) {
    for (uint64_t end = start; end <= tree; end++) {
      std::optional<LinearAdvanceProof> adv = c->LinearAdvance(start, end, tree);
      const LinearAdvanceProof* p = adv ? &*adv : nullptr;
      const Hash end_alh = end == 0 ? ZeroHash() : c->Alh(end);
      ASSERT_TRUE(VerifyLinearAdvanceProof(p, start, end, end_alh, root, tree));
      if (!adv) continue;
      EXPECT_FALSE(VerifyLinearAdvanceProof(nullptr, start, end, end_alh, root, tree));
      EXPECT_FALSE(VerifyLinearAdvanceProof(p, start, end, Flip(end_alh, 3), root, tree));
      EXPECT_FALSE(VerifyLinearAdvanceProof(p, start, end, end_alh, Flip(root, 3), tree));
      EXPECT_FALSE(
          VerifyLinearAdvanceProof(p, start, end, end_alh, c->aht().Root(tree - 1), tree - 1));
      // Shifted bounds (a span of 1 needs no proof and is accepted anyway).
      if (end - start > 2) {
        EXPECT_FALSE(VerifyLinearAdvanceProof(p, start + 1, end, end_alh, root, tree));
        EXPECT_FALSE(VerifyLinearAdvanceProof(p, start, end - 1, c->Alh(end - 1), root, tree));
      }
      for (size_t x = 0; x < adv->linear_proof_terms.size(); x++) {
        LinearAdvanceProof bad = *adv;
        bad.linear_proof_terms[x] = Flip(bad.linear_proof_terms[x], 8);
        EXPECT_FALSE(VerifyLinearAdvanceProof(&bad, start, end, end_alh, root, tree));
      }
      for (size_t x = 0; x < adv->inclusion_proofs.size(); x++) {
        for (size_t y = 0; y < adv->inclusion_proofs[x].size(); y++) {
          LinearAdvanceProof bad = *adv;
          bad.inclusion_proofs[x][y] = Flip(bad.inclusion_proofs[x][y], 8);
          EXPECT_FALSE(VerifyLinearAdvanceProof(&bad, start, end, end_alh, root, tree));
        }
        LinearAdvanceProof bad = *adv;
        bad.inclusion_proofs[x].push_back(root);
        EXPECT_FALSE(VerifyLinearAdvanceProof(&bad, start, end, end_alh, root, tree));
      }
      LinearAdvanceProof bad = *adv;
      bad.linear_proof_terms.pop_back();
      EXPECT_FALSE(VerifyLinearAdvanceProof(&bad, start, end, end_alh, root, tree));
      bad = *adv;
      bad.inclusion_proofs.push_back({});
      EXPECT_FALSE(VerifyLinearAdvanceProof(&bad, start, end, end_alh, root, tree));
    }
  }
}

TEST(LinearAdvanceProofTest, HostileInputs) {
  const Hash h = Sha256Of("h");
  EXPECT_FALSE(VerifyLinearAdvanceProof(nullptr, 5, 4, h, h, 9));
  EXPECT_TRUE(VerifyLinearAdvanceProof(nullptr, 5, 5, h, h, 9));
  EXPECT_TRUE(VerifyLinearAdvanceProof(nullptr, 5, 6, h, h, 9));
  const uint64_t max = std::numeric_limits<uint64_t>::max();
  EXPECT_TRUE(VerifyLinearAdvanceProof(nullptr, max, max, h, h, 9));
  EXPECT_FALSE(VerifyLinearAdvanceProof(nullptr, 0, max, h, h, max));
  LinearAdvanceProof empty;
  EXPECT_FALSE(VerifyLinearAdvanceProof(&empty, 0, max, h, h, max));
  EXPECT_FALSE(VerifyLinearAdvanceProof(&empty, 1, 3, h, h, 9));
  LinearAdvanceProof p;
  p.linear_proof_terms = {h, h};
  p.inclusion_proofs = {{}};
  EXPECT_FALSE(VerifyLinearAdvanceProof(&p, 1, 3, h, h, 9));
  EXPECT_FALSE(VerifyLinearAdvanceProof(&p, max - 2, max, h, h, max));
}

TEST(DualProofTest, HostileInputs) {
  Result<ReferenceChain> c = testutil::BuildSpecChain(1);
  ASSERT_TRUE(c.ok());
  DualProof p = c->Dual(2, 6);
  DualProof bad = p;
  bad.source_tx_header.id = 0;
  EXPECT_FALSE(VerifyDualProof(bad, 0, 6, c->Alh(2), c->Alh(6)));
  bad = p;
  bad.target_tx_header.version = 7;  // Unhashable header.
  EXPECT_FALSE(VerifyDualProof(bad, 2, 6, c->Alh(2), c->Alh(6)));
  bad = p;
  bad.source_tx_header.version = 0;
  bad.source_tx_header.nentries = 70000;
  EXPECT_FALSE(VerifyDualProof(bad, 2, 6, c->Alh(2), c->Alh(6)));
  EXPECT_FALSE(VerifyDualProof(DualProof{}, 0, 0, ZeroHash(), ZeroHash()));
  EXPECT_FALSE(VerifyDualProof(DualProof{}, 1, 1, ZeroHash(), ZeroHash()));
  bad = p;
  bad.target_tx_header.bl_tx_id = std::numeric_limits<uint64_t>::max();
  EXPECT_FALSE(VerifyDualProof(bad, 2, 6, c->Alh(2), c->Alh(6)));
}

}  // namespace
}  // namespace immudb::verify
