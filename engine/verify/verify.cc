// Pure proof verifiers (proofs.md §2.4, §4.5, §4.7, §5.1-§5.3).
//
// The hashing loops follow Go immudb's verifiers step by step. On top of them
// every verifier checks that the proof has exactly the number of terms the
// generator (§2.3, §4.4, §4.6) emits for the claimed indices. Go does not:
// without that check a proof for one (i, j) can pass for another whose
// left/right pattern starts the same (e.g. INCL(2, 2) as leaf 2 of size 3).
// Every proof a conforming server builds still passes. The length check also
// bounds the hashing work before any hash is computed.

#include "immudb/verify.h"

#include <bit>

namespace immudb::verify {
namespace {

// Largest power of two strictly below n. REQUIRES n >= 2.
uint64_t SplitPoint(uint64_t n) { return std::bit_floor(n - 1); }

// Number of terms of RFC 6962 PATH(m, n leaves), m < n: one per split on the
// way from the root down to leaf m.
uint64_t PathLen(uint64_t m, uint64_t n) {
  uint64_t len = 0;
  while (n > 1) {
    const uint64_t k = SplitPoint(n);
    if (m < k) {
      n = k;
    } else {
      m -= k;
      n -= k;
    }
    len++;
  }
  return len;
}

// Number of terms of CONS(i, j) (proofs.md §4.6), 1 <= i <= j.
uint64_t ConsistencyLen(uint64_t i, uint64_t j) {
  if (i == j) return i == 1 ? 0 : 2;
  // RFC 6962 SUBPROOF(i, D[0:j], true), counted iteratively.
  uint64_t len = 0;
  uint64_t m = i, n = j;
  bool whole_subtree = true;
  while (m != n) {
    const uint64_t k = SplitPoint(n);
    if (m <= k) {
      n = k;
    } else {
      m -= k;
      n -= k;
      whole_subtree = false;
    }
    len++;
  }
  if (!whole_subtree) len++;
  // The prover already prepends Root(i) when i is a power of two.
  if (std::has_single_bit(i)) len++;
  return len;
}

}  // namespace

bool VerifyHtreeInclusion(const InclusionProof& proof, const Hash& digest, const Hash& eh) {
  if (proof.width == 0 || proof.leaf >= proof.width) return false;
  if (proof.terms.size() != PathLen(proof.leaf, proof.width)) return false;
  Hash c = LeafHash(digest);
  uint64_t i = proof.leaf;
  uint64_t r = proof.width - 1;
  for (const Hash& t : proof.terms) {
    c = (i % 2 == 0 && i != r) ? NodeHash(c, t) : NodeHash(t, c);
    i /= 2;
    r /= 2;
  }
  return i == r && c == eh;
}

bool VerifyInclusion(std::span<const Hash> proof, uint64_t i, uint64_t j, const Hash& i_leaf,
                     const Hash& j_root) {
  if (i == 0 || i > j) return false;
  if (i < j && proof.empty()) return false;
  if (proof.size() != PathLen(i - 1, j)) return false;
  uint64_t a = i - 1;
  uint64_t b = j - 1;
  Hash c = i_leaf;
  for (const Hash& t : proof) {
    c = (a % 2 == 0 && a != b) ? NodeHash(c, t) : NodeHash(t, c);
    a >>= 1;
    b >>= 1;
  }
  return c == j_root;
}

bool VerifyLastInclusion(std::span<const Hash> proof, uint64_t i, const Hash& leaf,
                         const Hash& root) {
  if (i == 0) return false;
  // INCL(i, i) holds one left-sibling block root per set bit of i - 1.
  if (proof.size() != static_cast<size_t>(std::popcount(i - 1))) return false;
  Hash c = leaf;
  for (const Hash& t : proof) c = NodeHash(t, c);
  return c == root;
}

bool VerifyConsistency(std::span<const Hash> proof, uint64_t i, uint64_t j, const Hash& i_root,
                       const Hash& j_root) {
  if (i == 0 || i > j) return false;
  if (i < j && proof.empty()) return false;
  if (i == j && proof.empty()) return i_root == j_root;
  if (proof.size() != ConsistencyLen(i, j)) return false;

  uint64_t fn = i - 1;
  uint64_t sn = j - 1;
  while (fn % 2 == 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash ci = proof[0];
  Hash cj = proof[0];
  for (size_t x = 1; x < proof.size(); x++) {
    const Hash& t = proof[x];
    if (fn % 2 == 1 || fn == sn) {
      ci = NodeHash(t, ci);
      cj = NodeHash(t, cj);
      while (fn % 2 == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      cj = NodeHash(cj, t);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return ci == i_root && cj == j_root;
}

bool VerifyLinearProof(const LinearProof& proof, uint64_t source_tx_id, uint64_t target_tx_id,
                       const Hash& source_alh, const Hash& target_alh) {
  if (proof.source_tx_id != source_tx_id || proof.target_tx_id != target_tx_id) return false;
  if (source_tx_id == 0 || source_tx_id > target_tx_id) return false;
  if (proof.terms.empty() || proof.terms[0] != source_alh) return false;
  // No overflow: source_tx_id >= 1, so the count is at most 2^64 - 1.
  if (proof.terms.size() != target_tx_id - source_tx_id + 1) return false;
  Hash c = proof.terms[0];
  for (size_t m = 1; m < proof.terms.size(); m++) {
    c = AlhFrom(source_tx_id + m, c, proof.terms[m]);
  }
  return c == target_alh;
}

bool VerifyLinearAdvanceProof(const LinearAdvanceProof* proof, uint64_t start_tx_id,
                              uint64_t end_tx_id, const Hash& end_alh, const Hash& tree_root,
                              uint64_t tree_size) {
  if (end_tx_id < start_tx_id) return false;
  const uint64_t span = end_tx_id - start_tx_id;
  // Adjacent or equal txs need no advance proof: the linear proof covers them.
  if (span <= 1) return true;
  if (proof == nullptr) return false;
  if (proof->linear_proof_terms.size() != span) return false;
  if (proof->inclusion_proofs.size() != span - 1) return false;

  Hash c = proof->linear_proof_terms[0];
  for (uint64_t x = start_tx_id + 1; x < end_tx_id; x++) {
    const std::vector<Hash>& incl = proof->inclusion_proofs[x - start_tx_id - 1];
    if (!VerifyInclusion(incl, x, tree_size, LeafHash(c), tree_root)) return false;
    c = AlhFrom(x + 1, c, proof->linear_proof_terms[x - start_tx_id]);
  }
  return c == end_alh;
}

bool VerifyDualProof(const DualProof& proof, uint64_t source_tx_id, uint64_t target_tx_id,
                     const Hash& source_alh, const Hash& target_alh) {
  const TxHeader& src = proof.source_tx_header;
  const TxHeader& tgt = proof.target_tx_header;

  // Step 1: the headers are the claimed transactions, in order.
  if (src.id != source_tx_id || tgt.id != target_tx_id) return false;
  if (src.id == 0 || src.id > tgt.id) return false;
  // A header can only commit to an AHT that existed before it (proofs.md §3.1).
  // Go does not check this, but no conforming server violates it.
  if (src.bl_tx_id >= src.id || tgt.bl_tx_id >= tgt.id) return false;

  // Step 2: the headers hash to the trusted Alh values.
  Result<Hash> s_alh = src.Alh();
  Result<Hash> t_alh = tgt.Alh();
  if (!s_alh.ok() || !t_alh.ok()) return false;
  if (*s_alh != source_alh || *t_alh != target_alh) return false;

  // Proof parts that a step below does not check must be empty (Z32 for the
  // Alh), as the generator (§5.3) leaves them. Go ignores them instead; being
  // strict keeps every accepted proof canonical, so no bytes ride along
  // unverified.
  if (source_tx_id >= tgt.bl_tx_id && !proof.inclusion_proof.empty()) return false;
  if (src.bl_tx_id == 0 && !proof.consistency_proof.empty()) return false;
  if (tgt.bl_tx_id == 0 &&
      (!proof.last_inclusion_proof.empty() || proof.target_bl_tx_alh != ZeroHash())) {
    return false;
  }

  // Step 3: the source Alh is a leaf of the target's AHT.
  if (source_tx_id < tgt.bl_tx_id) {
    if (!VerifyInclusion(proof.inclusion_proof, source_tx_id, tgt.bl_tx_id, LeafHash(source_alh),
                         tgt.bl_root)) {
      return false;
    }
  }
  // Step 4: the source's AHT is a prefix of the target's.
  if (src.bl_tx_id > 0) {
    if (!VerifyConsistency(proof.consistency_proof, src.bl_tx_id, tgt.bl_tx_id, src.bl_root,
                           tgt.bl_root)) {
      return false;
    }
  }
  // Step 5: target_bl_tx_alh is the last leaf of the target's AHT.
  if (tgt.bl_tx_id > 0) {
    if (!VerifyLastInclusion(proof.last_inclusion_proof, tgt.bl_tx_id,
                             LeafHash(proof.target_bl_tx_alh), tgt.bl_root)) {
      return false;
    }
  }
  // Step 6: the Alh chain links what the AHT covers to the target.
  const LinearAdvanceProof* adv =
      proof.linear_advance_proof ? &*proof.linear_advance_proof : nullptr;
  if (source_tx_id < tgt.bl_tx_id) {
    return VerifyLinearProof(proof.linear_proof, tgt.bl_tx_id, target_tx_id, proof.target_bl_tx_alh,
                             target_alh) &&
           VerifyLinearAdvanceProof(adv, src.bl_tx_id, source_tx_id, source_alh, tgt.bl_root,
                                    tgt.bl_tx_id);
  }
  return VerifyLinearProof(proof.linear_proof, source_tx_id, target_tx_id, source_alh,
                           target_alh) &&
         VerifyLinearAdvanceProof(adv, src.bl_tx_id, tgt.bl_tx_id, proof.target_bl_tx_alh,
                                  tgt.bl_root, tgt.bl_tx_id);
}

}  // namespace immudb::verify
