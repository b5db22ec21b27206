// Literal transcriptions of the recursive definitions in proofs.md §2, §4 and
// §5. Slow on purpose: nothing is cached, so there is nothing to get wrong.

#include "reference_aht.h"

#include <algorithm>
#include <bit>
#include <string>

#include "util/coding.h"

namespace immudb::testutil {
namespace {

// Largest power of two strictly below n. REQUIRES n >= 2.
uint64_t SplitPoint(uint64_t n) { return std::bit_floor(n - 1); }

// RFC 6962 MTH over leaf hashes.
Hash Mth(std::span<const Hash> leaves) {
  if (leaves.size() == 1) return leaves[0];
  const uint64_t k = SplitPoint(leaves.size());
  return NodeHash(Mth(leaves.first(k)), Mth(leaves.subspan(k)));
}

// RFC 6962 PATH(m, leaves) over leaf hashes, leaf level first.
std::vector<Hash> Path(uint64_t m, std::span<const Hash> leaves) {
  if (leaves.size() <= 1) return {};
  const uint64_t k = SplitPoint(leaves.size());
  std::vector<Hash> out;
  if (m < k) {
    out = Path(m, leaves.first(k));
    out.push_back(Mth(leaves.subspan(k)));
  } else {
    out = Path(m - k, leaves.subspan(k));
    out.push_back(Mth(leaves.first(k)));
  }
  return out;
}

std::vector<Hash> LeafHashes(std::span<const Hash> digests) {
  std::vector<Hash> leaves;
  for (const Hash& d : digests) leaves.push_back(LeafHash(d));
  return leaves;
}

std::vector<Hash> Concat(std::vector<Hash> a, const std::vector<Hash>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace

Hash ReferenceHtreeRoot(std::span<const Hash> digests) {
  if (digests.empty()) return EmptyHash();
  return Mth(LeafHashes(digests));
}

std::vector<Hash> ReferenceHtreePath(std::span<const Hash> digests, uint64_t m) {
  return Path(m, LeafHashes(digests));
}

// ---- ReferenceAht ----

Hash ReferenceAht::Leaf(uint64_t x) const { return LeafHash(LeafData(x)); }

Hash ReferenceAht::R(uint64_t a, uint64_t b) const {
  if (a == b) return Leaf(a);
  const uint64_t k = SplitPoint(b - a + 1);
  return NodeHash(R(a, a + k - 1), R(a + k, b));
}

Hash ReferenceAht::Root(uint64_t n) const { return n == 0 ? ZeroHash() : R(1, n); }

namespace {

// proofs.md §4.4 incl(i, j, height), transcribed line by line.
std::vector<Hash> Incl(const ReferenceAht& t, uint64_t i, uint64_t j, int height) {
  std::vector<Hash> suffix;
  for (int h = height - 1; h >= 0; h--) {
    if (((j - 1) >> h & 1) == 0) continue;
    const uint64_t k = ((j - 1) >> h) << h;
    if (i <= k) return Concat(Concat(Incl(t, i, k, h), {t.R(k + 1, j)}), suffix);
    suffix = Concat({t.R(k - (uint64_t{1} << h) + 1, k)}, suffix);
  }
  return suffix;
}

// proofs.md §4.6 cons(i, j, height), transcribed line by line.
std::vector<Hash> Cons(const ReferenceAht& t, uint64_t i, uint64_t j, int height) {
  std::vector<Hash> suffix;
  for (int h = height - 1; h >= 0; h--) {
    if (((j - 1) >> h & 1) == 0) continue;
    const uint64_t k = ((j - 1) >> h) << h;
    const Hash block = t.R(k - (uint64_t{1} << h) + 1, k);
    if (i <= k) {
      std::vector<Hash> out = Concat({t.R(k + 1, j)}, suffix);
      if (i < k) {
        out = Concat(Cons(t, i, k, h), out);
      } else {
        out = Concat({block}, out);
      }
      return out;
    }
    suffix = Concat({block}, suffix);
    if (i == j) return Concat({t.R(k + 1, j)}, suffix);
  }
  return suffix;
}

}  // namespace

std::vector<Hash> ReferenceAht::Inclusion(uint64_t i, uint64_t j) const {
  return Incl(*this, i, j, std::bit_width(j - 1));
}

std::vector<Hash> ReferenceAht::Consistency(uint64_t i, uint64_t j) const {
  return Cons(*this, i, j, std::bit_width(j - 1));
}

// ---- ReferenceChain ----

Result<ReferenceChain> ReferenceChain::FromHeaders(const std::vector<TxHeader>& headers) {
  ReferenceChain chain;
  for (const TxHeader& h : headers) IMMUDB_RETURN_IF_ERROR(chain.AppendRaw(h));
  return chain;
}

Status ReferenceChain::AppendLinked(TxHeader hdr) {
  if (hdr.bl_tx_id > size()) {
    return Status::InvalidArgument("bl_tx_id " + std::to_string(hdr.bl_tx_id) +
                                   " beyond the chain");
  }
  hdr.id = size() + 1;
  hdr.prev_alh = size() == 0 ? EmptyHash() : alhs_.back();
  hdr.bl_root = aht_.Root(hdr.bl_tx_id);
  return AppendRaw(hdr);
}

Status ReferenceChain::AppendRaw(const TxHeader& hdr) {
  if (hdr.id != size() + 1) return Status::InvalidArgument("header id out of sequence");
  IMMUDB_ASSIGN_OR_RETURN(Hash inner, hdr.Inner());
  headers_.push_back(hdr);
  inners_.push_back(inner);
  alhs_.push_back(AlhFrom(hdr.id, hdr.prev_alh, inner));
  aht_.Append(alhs_.back());
  return Status::OK();
}

LinearProof ReferenceChain::Linear(uint64_t s, uint64_t t) const {
  LinearProof p;
  p.source_tx_id = s;
  p.target_tx_id = t;
  p.terms.push_back(Alh(s));
  for (uint64_t x = s + 1; x <= t; x++) p.terms.push_back(Inner(x));
  return p;
}

std::optional<LinearAdvanceProof> ReferenceChain::LinearAdvance(uint64_t start, uint64_t end,
                                                                uint64_t tree_size) const {
  if (end <= start + 1) return std::nullopt;
  LinearAdvanceProof p;
  p.linear_proof_terms.push_back(Alh(start + 1));
  for (uint64_t x = start + 2; x <= end; x++) p.linear_proof_terms.push_back(Inner(x));
  for (uint64_t x = start + 1; x < end; x++) {
    p.inclusion_proofs.push_back(aht_.Inclusion(x, tree_size));
  }
  return p;
}

DualProof ReferenceChain::Dual(uint64_t s, uint64_t t) const {
  const TxHeader& src = Header(s);
  const TxHeader& tgt = Header(t);
  DualProof p;
  p.source_tx_header = src;
  p.target_tx_header = tgt;
  if (src.id < tgt.bl_tx_id) p.inclusion_proof = aht_.Inclusion(src.id, tgt.bl_tx_id);
  if (src.bl_tx_id > 0) p.consistency_proof = aht_.Consistency(src.bl_tx_id, tgt.bl_tx_id);
  if (tgt.bl_tx_id > 0) {
    p.target_bl_tx_alh = Alh(tgt.bl_tx_id);
    p.last_inclusion_proof = aht_.Inclusion(tgt.bl_tx_id, tgt.bl_tx_id);
  } else {
    p.target_bl_tx_alh = ZeroHash();
  }
  p.linear_proof = Linear(std::max(src.id, tgt.bl_tx_id), tgt.id);
  p.linear_advance_proof =
      LinearAdvance(src.bl_tx_id, std::min(src.id, tgt.bl_tx_id), tgt.bl_tx_id);
  return p;
}

// ---- The §8 test chain ----

std::vector<Hash> SpecH1Digests(uint64_t n) {
  std::vector<Hash> d;
  for (uint64_t i = 0; i < n; i++) {
    uint8_t b[8];
    PutU64BE(b, i);
    d.push_back(Sha256Of(b, sizeof(b)));
  }
  return d;
}

Hash SpecA1Alh(uint64_t x) {
  uint8_t b[11] = {'a', 'l', 'h'};
  PutU64BE(b + 3, x);
  return Sha256Of(b, sizeof(b));
}

ReferenceAht SpecA1Tree(uint64_t n) {
  ReferenceAht t;
  for (uint64_t x = 1; x <= n; x++) t.Append(SpecA1Alh(x));
  return t;
}

const char* const kSpecA1Roots[8] = {
    "50d8678bcbbe57cad733b6ef23c46767d8508fd4da6cf907f548641e1e45fe07",
    "97fb4d8a537f756a91ffd0f4a38a2b5cfdd8920eac175fd661a9fdc792d520c9",
    "21c37e49bcdf446ec644460ba0934a09c057f3a80de50d40be854c5524e03452",
    "6789b343d4139164b9e22885f69fbf83d15e80766ca67bfe1c82cbf9a039dfe7",
    "b507967455c3cf668f38b92a5664477e4a182afaa7aef13fd6b0507fcbdd0422",
    "a25a2b7badbffa9b0d20a00588b6b35d759611c0bd30de4bd6b1e92ec8ad97f5",
    "893ec80718e508d321d8d94b2460d813c0c723e3e645772e699ea4084432b56d",
    "32960a6c9e314570a95ec0d108e7597258bdb25be5b7e06b3a36431fecc15a37",
};

std::vector<TxEntry> SpecChainEntries(uint64_t tx_id) {
  std::vector<TxEntry> entries;
  const uint64_t n = tx_id % 3 + 1;
  for (uint64_t e = 0; e < n; e++) {
    const std::string suffix = std::to_string(tx_id) + "_" + std::to_string(e);
    TxEntry entry;
    entry.key = std::string(1, '\0') + "k" + suffix;
    const std::string value = std::string(1, '\0') + "v" + suffix;
    entry.hval = Sha256Of(value);
    entry.vlen = static_cast<uint32_t>(value.size());
    entries.push_back(entry);
  }
  return entries;
}

Result<ReferenceChain> BuildSpecChain(uint16_t version, uint64_t n) {
  ReferenceChain chain;
  for (uint64_t i = 1; i <= n; i++) {
    const std::vector<TxEntry> entries = SpecChainEntries(i);
    TxHeader hdr;
    hdr.ts = 1700000000 + static_cast<int64_t>(i);
    hdr.version = version;
    hdr.nentries = static_cast<uint32_t>(entries.size());
    IMMUDB_ASSIGN_OR_RETURN(hdr.eh, ComputeEh(version, entries));
    hdr.bl_tx_id = i - 1;
    IMMUDB_RETURN_IF_ERROR(chain.AppendLinked(hdr));
  }
  return chain;
}

}  // namespace immudb::testutil
