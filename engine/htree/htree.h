// HTree: the per-transaction Merkle tree over entry digests (proofs.md §2).
// Leaves are H(0x00 || digest); inner nodes H(0x01 || l || r); an odd node is
// carried up unchanged. The root is Eh. Thread-compatible.
#pragma once

#include <span>
#include <vector>

#include "immudb/hash.h"
#include "immudb/proof.h"
#include "immudb/result.h"
#include "immudb/tx.h"

namespace immudb {

class HTree {
 public:
  // Builds the tree over `digests` (may be empty: root = H("")).
  void Build(std::span<const Hash> digests);
  Hash Root() const;
  size_t width() const { return width_; }
  // Inclusion proof of leaf i (0-based); OutOfRange if i >= width().
  Result<InclusionProof> Proof(size_t i) const;

 private:
  size_t width_ = 0;
  std::vector<std::vector<Hash>> levels_;  // levels_[0] = leaf hashes.
};

// The inclusion proof of entry `index` of `tx`: the tree over its entry
// digests (for its header version). OutOfRange for an index past its entries.
Result<InclusionProof> TxEntryInclusionProof(const Tx& tx, size_t index);

// Root only, without keeping the levels.
Hash HTreeRoot(std::span<const Hash> digests);

}  // namespace immudb
