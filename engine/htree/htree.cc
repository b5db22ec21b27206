// Bottom-up htree (proofs.md §2.2): pairs are hashed, an odd last node is
// carried up unchanged. That is the same tree as the RFC 6962 recursive split,
// so a leaf's audit path is simply its existing sibling on every level.

#include "htree/htree.h"

#include <string>

namespace immudb {
namespace {

// Hashes level `in` (n >= 2 nodes) into `out` ((n + 1) / 2 nodes). `out` may
// alias the front of `in`: node k only reads nodes 2k and 2k+1 >= k.
void ReduceLevel(const Hash* in, size_t n, Hash* out) {
  const size_t pairs = n / 2;
  for (size_t k = 0; k < pairs; k++) out[k] = NodeHash(in[2 * k], in[2 * k + 1]);
  if (n % 2 == 1) out[pairs] = in[n - 1];
}

}  // namespace

void HTree::Build(std::span<const Hash> digests) {
  width_ = digests.size();
  if (width_ == 0) {
    levels_.clear();
    return;
  }
  size_t depth = 1;
  for (size_t n = width_; n > 1; n = (n + 1) / 2) depth++;
  // resize() keeps the inner vectors' capacity, so rebuilding a tree of a
  // similar size (one tx after another) allocates nothing.
  levels_.resize(depth);
  levels_[0].resize(width_);
  for (size_t i = 0; i < width_; i++) levels_[0][i] = LeafHash(digests[i]);
  for (size_t l = 1; l < depth; l++) {
    const std::vector<Hash>& below = levels_[l - 1];
    levels_[l].resize((below.size() + 1) / 2);
    ReduceLevel(below.data(), below.size(), levels_[l].data());
  }
}

Hash HTree::Root() const {
  if (width_ == 0) return EmptyHash();
  return levels_.back()[0];
}

Result<InclusionProof> HTree::Proof(size_t i) const {
  if (i >= width_) {
    return Status::OutOfRange("htree: leaf " + std::to_string(i) + " >= width " +
                              std::to_string(width_));
  }
  InclusionProof proof;
  proof.leaf = i;
  proof.width = width_;
  proof.terms.reserve(levels_.size());
  size_t idx = i;
  for (size_t l = 0; l + 1 < levels_.size(); l++) {
    const size_t sibling = idx ^ 1;
    // A carried-up last node has no sibling on this level and adds no term.
    if (sibling < levels_[l].size()) proof.terms.push_back(levels_[l][sibling]);
    idx >>= 1;
  }
  return proof;
}

Hash HTreeRoot(std::span<const Hash> digests) {
  if (digests.empty()) return EmptyHash();
  if (digests.size() == 1) return LeafHash(digests[0]);
  // Small trees (most txs) reduce on the stack, larger ones on the heap.
  constexpr size_t kStackLeaves = 32;
  Hash stack[kStackLeaves];
  std::vector<Hash> heap;
  Hash* level = stack;
  if (digests.size() > kStackLeaves) {
    heap.resize(digests.size());
    level = heap.data();
  }
  for (size_t i = 0; i < digests.size(); i++) level[i] = LeafHash(digests[i]);
  // Reduce in place: each level overwrites the front of the one below it.
  for (size_t n = digests.size(); n > 1; n = (n + 1) / 2) ReduceLevel(level, n, level);
  return level[0];
}

Result<InclusionProof> TxEntryInclusionProof(const Tx& tx, size_t index) {
  if (index >= tx.entries.size()) return Status::OutOfRange("entry index out of range");
  std::vector<Hash> digests;
  digests.reserve(tx.entries.size());
  for (const TxEntry& e : tx.entries) {
    IMMUDB_ASSIGN_OR_RETURN(Hash d, e.Digest(tx.header.version));
    digests.push_back(d);
  }
  HTree tree;
  tree.Build(digests);
  return tree.Proof(index);
}

}  // namespace immudb
