// Proof messages (proofs.md §2.3, §5). Plain data, thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "immudb/hash.h"
#include "immudb/tx.h"

namespace immudb {

// htree inclusion proof of entry `leaf` (0-based) in a tx of `width` entries;
// terms from the leaf level upward.
struct InclusionProof {
  uint64_t leaf = 0;
  uint64_t width = 0;
  std::vector<Hash> terms;
};

// terms = [Alh(source), inner(source+1), ..., inner(target)].
struct LinearProof {
  uint64_t source_tx_id = 0;
  uint64_t target_tx_id = 0;
  std::vector<Hash> terms;
};

struct LinearAdvanceProof {
  std::vector<Hash> linear_proof_terms;
  std::vector<std::vector<Hash>> inclusion_proofs;
};

struct DualProof {
  TxHeader source_tx_header;
  TxHeader target_tx_header;
  std::vector<Hash> inclusion_proof;
  std::vector<Hash> consistency_proof;
  Hash target_bl_tx_alh{};
  std::vector<Hash> last_inclusion_proof;
  LinearProof linear_proof;
  std::optional<LinearAdvanceProof> linear_advance_proof;  // Absent when not needed.
};

}  // namespace immudb
