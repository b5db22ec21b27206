// Slow, plainly written reference implementations of the Merkle structures of
// proofs.md, used only to check the fast engine code and to generate proof
// vectors. Everything here follows the spec's recursive definitions literally
// (RFC 6962 MTH / PATH, §4.4 INCL, §4.6 CONS, §5 linear and dual proofs) and
// favours obviousness over speed: roots are recomputed from the leaves on
// every call. Do not use in production code.
//
// Thread-compatible: const methods may run concurrently.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "immudb/hash.h"
#include "immudb/proof.h"
#include "immudb/result.h"
#include "immudb/status.h"
#include "immudb/tx.h"

namespace immudb::testutil {

// ---- htree (proofs.md §2) ----

// RFC 6962 MTH over the leaf hashes H(0x00 || d) of `digests`; H("") if empty.
Hash ReferenceHtreeRoot(std::span<const Hash> digests);
// RFC 6962 PATH(m, leaves), leaf level first. REQUIRES m < digests.size().
std::vector<Hash> ReferenceHtreePath(std::span<const Hash> digests, uint64_t m);

// ---- AHT (proofs.md §4) ----

// An append-only tree over Alh values; leaves are 1-based.
class ReferenceAht {
 public:
  ReferenceAht() = default;
  explicit ReferenceAht(std::vector<Hash> alhs) : alhs_(std::move(alhs)) {}

  void Append(const Hash& alh) { alhs_.push_back(alh); }
  uint64_t size() const { return alhs_.size(); }
  // Leaf data Alh(x). REQUIRES 1 <= x <= size().
  const Hash& LeafData(uint64_t x) const { return alhs_[x - 1]; }
  // L(x) = H(0x00 || Alh(x)).
  Hash Leaf(uint64_t x) const;

  // R(a, b), REQUIRES 1 <= a <= b <= size().
  Hash R(uint64_t a, uint64_t b) const;
  // Root(n) = R(1, n); Root(0) = Z32 (the BlRoot convention for BlTxID = 0).
  // REQUIRES n <= size().
  Hash Root(uint64_t n) const;
  // INCL(i, j) (§4.4). REQUIRES 1 <= i <= j <= size().
  std::vector<Hash> Inclusion(uint64_t i, uint64_t j) const;
  // CONS(i, j) (§4.6), including the i == j cases. REQUIRES 1 <= i <= j <= size().
  std::vector<Hash> Consistency(uint64_t i, uint64_t j) const;

 private:
  std::vector<Hash> alhs_;
};

// ---- Transaction chain and linear / dual proofs (proofs.md §5) ----

// Headers of tx 1..n, their inner hashes and Alh values, and the AHT over
// every Alh (as the server keeps it: all Alh values appended, whatever BlTxID
// each header committed to).
class ReferenceChain {
 public:
  ReferenceChain() = default;
  // Takes complete headers verbatim (header i must have id i + 1).
  // InvalidArgument when an id is out of sequence or a header cannot be hashed.
  static Result<ReferenceChain> FromHeaders(const std::vector<TxHeader>& headers);

  // Appends `hdr` as tx size()+1 after filling in id, prev_alh and bl_root
  // (= Root(hdr.bl_tx_id)). InvalidArgument if hdr.bl_tx_id > size() or the
  // header cannot be hashed (bad version, too many entries).
  Status AppendLinked(TxHeader hdr);
  // Appends `hdr` verbatim; InvalidArgument if hdr.id != size()+1 or the header
  // cannot be hashed. Does not check prev_alh / bl_root.
  Status AppendRaw(const TxHeader& hdr);

  uint64_t size() const { return headers_.size(); }
  // REQUIRES 1 <= id <= size() for the three accessors below.
  const TxHeader& Header(uint64_t id) const { return headers_[id - 1]; }
  const Hash& Alh(uint64_t id) const { return alhs_[id - 1]; }
  const Hash& Inner(uint64_t id) const { return inners_[id - 1]; }
  const ReferenceAht& aht() const { return aht_; }

  // LINEAR(s, t): [Alh(s), inner(s+1), ..., inner(t)]. REQUIRES 1 <= s <= t <= size().
  LinearProof Linear(uint64_t s, uint64_t t) const;
  // ADV(start, end, tree_size) (§5.2); nullopt when end <= start + 1.
  // REQUIRES end <= tree_size <= size().
  std::optional<LinearAdvanceProof> LinearAdvance(uint64_t start, uint64_t end,
                                                  uint64_t tree_size) const;
  // DualProof(S = Header(s), T = Header(t)) per §5.3 server generation.
  // REQUIRES 1 <= s <= t <= size() and Header(s).bl_tx_id <= Header(t).bl_tx_id.
  DualProof Dual(uint64_t s, uint64_t t) const;

 private:
  std::vector<TxHeader> headers_;
  std::vector<Hash> inners_;
  std::vector<Hash> alhs_;
  ReferenceAht aht_;
};

// ---- The synthetic leaf data of proofs.md §8 ----

// H1 htree leaf digests d_i = H(u64(i)), i = 0..n-1.
std::vector<Hash> SpecH1Digests(uint64_t n);
// A1 leaf data Alh(x) = H("alh" || u64(x)).
Hash SpecA1Alh(uint64_t x);
// The AHT over A1's Alh(1..n).
ReferenceAht SpecA1Tree(uint64_t n);
// A1's published roots, hex: kSpecA1Roots[n - 1] = Root(n) for n = 1..8.
extern const char* const kSpecA1Roots[8];

// Entries of the §8 C1/C0 test chain: tx i (1..8) has (i mod 3) + 1 entries,
// entry e = Set("k<i>_<e>", "v<i>_<e>") stored as (0x00 || key, 0x00 || value).
std::vector<TxEntry> SpecChainEntries(uint64_t tx_id);
// The §8 chain with header `version` (1 = C1, 0 = C0) and `n` transactions:
// Ts = 1700000000 + i, BlTxID = i - 1.
Result<ReferenceChain> BuildSpecChain(uint16_t version, uint64_t n = 8);

}  // namespace immudb::testutil
