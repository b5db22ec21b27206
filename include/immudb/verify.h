// Pure proof verification (proofs.md §2.4, §4.5, §4.7, §5): no I/O, no state.
// Every function checks lengths and bounds before hashing and returns false on
// any malformed input; none of them throws or crashes on hostile input.
// Thread-safe.
#pragma once

#include <cstdint>
#include <span>

#include "immudb/hash.h"
#include "immudb/proof.h"

namespace immudb::verify {

// htree: entry digest `digest` is leaf proof.leaf of a tree of proof.width
// leaves with root `eh`.
bool VerifyHtreeInclusion(const InclusionProof& proof, const Hash& digest, const Hash& eh);

// AHT inclusion of leaf i (1-based) with leaf hash `i_leaf` = L(i) in the tree
// of size j with root `j_root`.
bool VerifyInclusion(std::span<const Hash> proof, uint64_t i, uint64_t j, const Hash& i_leaf,
                     const Hash& j_root);
// AHT "last inclusion": leaf i is the last leaf of the tree of size i.
bool VerifyLastInclusion(std::span<const Hash> proof, uint64_t i, const Hash& leaf,
                         const Hash& root);
// AHT consistency between sizes i <= j.
bool VerifyConsistency(std::span<const Hash> proof, uint64_t i, uint64_t j, const Hash& i_root,
                       const Hash& j_root);

bool VerifyLinearProof(const LinearProof& proof, uint64_t source_tx_id, uint64_t target_tx_id,
                       const Hash& source_alh, const Hash& target_alh);
// `proof` may be null (absent message).
bool VerifyLinearAdvanceProof(const LinearAdvanceProof* proof, uint64_t start_tx_id,
                              uint64_t end_tx_id, const Hash& end_alh, const Hash& tree_root,
                              uint64_t tree_size);

// Proves that the history up to tx `source_tx_id` with Alh `source_alh` is a
// prefix of the history up to `target_tx_id` with Alh `target_alh`.
bool VerifyDualProof(const DualProof& proof, uint64_t source_tx_id, uint64_t target_tx_id,
                     const Hash& source_alh, const Hash& target_alh);

}  // namespace immudb::verify
