// proofgen: writes JSON proof vectors (valid proofs and broken twins that any
// verifier must reject) for htree inclusion, AHT inclusion / last inclusion /
// consistency, linear and dual proofs, one file per case:
//   <dir>/<kind>/<name>.json   with "expect": "valid" | "invalid"
// Usage: immudb-proofgen [dir]   (default testdata/proofs; <dir>/<kind>/ is replaced)
//
// Every case is checked with immudb::verify before it is written, so a file's
// "expect" always matches what the C++ verifier says. Broken twins are chosen
// so that Go immudb's verifiers reject them too (they change checked bytes or
// claim indices whose genuine root differs), not only our stricter ones.

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "htree/htree.h"
#include "immudb/verify.h"
#include "testutil/reference_aht.h"
#include "util/coding.h"

namespace immudb::proofgen {
namespace {

using testutil::ReferenceAht;
using testutil::ReferenceChain;

// ---- tiny JSON writer: values are already-serialized strings ----

std::string Str(const std::string& s) { return "\"" + s + "\""; }
std::string Hex(const Hash& h) { return Str(ToHex(h)); }
std::string Num(uint64_t v) { return std::to_string(v); }
std::string Int(int64_t v) { return std::to_string(v); }

std::string HexList(const std::vector<Hash>& hs) {
  std::string out = "[";
  for (size_t i = 0; i < hs.size(); i++) out += (i ? ", " : "") + Hex(hs[i]);
  return out + "]";
}

using Fields = std::vector<std::pair<std::string, std::string>>;

std::string Obj(const Fields& fields, const std::string& indent = "") {
  std::string out = "{\n";
  for (size_t i = 0; i < fields.size(); i++) {
    out += indent + "  " + Str(fields[i].first) + ": " + fields[i].second;
    out += i + 1 < fields.size() ? ",\n" : "\n";
  }
  return out + indent + "}";
}

// One-line object, for nested headers and proofs.
std::string InlineObj(const Fields& fields) {
  std::string out = "{";
  for (size_t i = 0; i < fields.size(); i++) {
    out += (i ? ", " : "") + Str(fields[i].first) + ": " + fields[i].second;
  }
  return out + "}";
}

Hash Flip(Hash h, size_t bit) {
  h[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
  return h;
}

const Hash kExtra = Sha256Of("proofgen extra term");

class Writer {
 public:
  explicit Writer(std::string dir) : dir_(std::move(dir)) {}

  // Writes <dir>/<kind>/<case_name>.<mutation>.json, after checking that the
  // verifier's answer `verified` matches `valid` (mutation "valid" or a twin).
  void Emit(const std::string& kind, const std::string& case_name, const std::string& mutation,
            bool verified, Fields fields) {
    const bool valid = mutation == "valid";
    const std::string name = case_name + "." + mutation;
    if (valid != verified) {
      std::fprintf(stderr, "proofgen: %s/%s: expected %s, the verifier says %s\n", kind.c_str(),
                   name.c_str(), valid ? "valid" : "invalid", verified ? "valid" : "invalid");
      ok_ = false;
      return;
    }
    fields.insert(fields.begin(), {{"type", Str(kind)},
                                   {"expect", Str(valid ? "valid" : "invalid")},
                                   {"mutation", Str(mutation)}});
    const std::filesystem::path sub = std::filesystem::path(dir_) / kind;
    std::error_code ec;
    std::filesystem::create_directories(sub, ec);
    const std::filesystem::path file = sub / (name + ".json");
    std::ofstream f(file);
    f << Obj(fields) << "\n";
    f.close();
    if (!f) {
      std::fprintf(stderr, "proofgen: cannot write %s\n", file.c_str());
      ok_ = false;
      return;
    }
    count_++;
  }
  bool ok() const { return ok_; }
  int count() const { return count_; }

 private:
  std::string dir_;
  bool ok_ = true;
  int count_ = 0;
};

// Broken twins of a term list that change checked bytes: first/last term
// flipped, last term dropped, a term added at either end.
std::vector<std::pair<std::string, std::vector<Hash>>> TermTwins(const std::vector<Hash>& p) {
  std::vector<std::pair<std::string, std::vector<Hash>>> out;
  if (!p.empty()) {
    out.push_back({"flip-term0-bit0", p});
    out.back().second[0] = Flip(p[0], 0);
    out.push_back({"flip-last-term-bit255", p});
    out.back().second.back() = Flip(p.back(), 255);
    out.push_back({"missing-last-term", p});
    out.back().second.pop_back();
  }
  out.push_back({"extra-term-after", p});
  out.back().second.push_back(kExtra);
  out.push_back({"extra-term-before", p});
  out.back().second.insert(out.back().second.begin(), kExtra);
  return out;
}

// ---- htree inclusion (proofs.md §2); digests d_i = H(u64(i)) as in §8 H1 ----

void HtreeCases(Writer* w) {
  const std::pair<uint64_t, uint64_t> cases[] = {{1, 0}, {5, 0}, {5, 3}, {5, 4}, {13, 7}, {13, 12}};
  for (const auto& [n, leaf] : cases) {
    const std::vector<Hash> d = testutil::SpecH1Digests(n + 1);
    const std::span<const Hash> tree_d(d.data(), n);
    HTree tree;
    tree.Build(tree_d);
    const InclusionProof proof = *tree.Proof(leaf);
    const std::string name = "width" + Num(n) + "-leaf" + Num(leaf);
    auto emit = [&](const std::string& mutation, const InclusionProof& p, const Hash& digest,
                    const Hash& root) {
      w->Emit("htree_inclusion", name, mutation, verify::VerifyHtreeInclusion(p, digest, root),
              {{"leaf", Num(p.leaf)},
               {"width", Num(p.width)},
               {"digest", Hex(digest)},
               {"root", Hex(root)},
               {"terms", HexList(p.terms)}});
    };
    emit("valid", proof, d[leaf], tree.Root());
    for (const auto& [mutation, terms] : TermTwins(proof.terms)) {
      InclusionProof bad = proof;
      bad.terms = terms;
      emit(mutation, bad, d[leaf], tree.Root());
    }
    emit("wrong-digest", proof, Flip(d[leaf], 7), tree.Root());
    emit("wrong-root", proof, d[leaf], Flip(tree.Root(), 100));
    if (n > 1) {
      InclusionProof bad = proof;
      bad.leaf = leaf == 0 ? 1 : leaf - 1;
      emit("wrong-leaf-index", bad, d[bad.leaf], tree.Root());
    }
    // The same leaf in a tree one wider, with that tree's genuine root.
    InclusionProof wider = proof;
    wider.width = n + 1;
    emit("wrong-width", wider, d[leaf], HTreeRoot(d));
  }
}

// ---- AHT (proofs.md §4); leaf data Alh(x) = H("alh" || u64(x)) as in §8 A1 ----

void AhtInclusionCases(Writer* w, const ReferenceAht& t) {
  const std::pair<uint64_t, uint64_t> cases[] = {{1, 1},  {3, 7},   {1, 8},  {6, 6},
                                                 {5, 13}, {12, 13}, {16, 17}};
  for (const auto& [i, j] : cases) {
    const std::vector<Hash> proof = t.Inclusion(i, j);
    const std::string name = Num(i) + "-" + Num(j);
    auto emit = [&](const std::string& mutation, const std::vector<Hash>& p, uint64_t ci,
                    uint64_t cj, const Hash& leaf, const Hash& root) {
      w->Emit("aht_inclusion", name, mutation, verify::VerifyInclusion(p, ci, cj, leaf, root),
              {{"i", Num(ci)},
               {"j", Num(cj)},
               {"leaf_hash", Hex(leaf)},
               {"root", Hex(root)},
               {"terms", HexList(p)}});
    };
    emit("valid", proof, i, j, t.Leaf(i), t.Root(j));
    for (const auto& [mutation, terms] : TermTwins(proof)) {
      emit(mutation, terms, i, j, t.Leaf(i), t.Root(j));
    }
    emit("wrong-leaf", proof, i, j, t.Leaf(i == 1 ? 2 : i - 1), t.Root(j));
    emit("leaf-data-not-hashed", proof, i, j, t.LeafData(i), t.Root(j));
    emit("wrong-size", proof, i, j + 1, t.Leaf(i), t.Root(j + 1));
    if (i > 1) emit("wrong-index", proof, i - 1, j, t.Leaf(i - 1), t.Root(j));
    emit("index-zero", proof, 0, j, t.Leaf(i), t.Root(j));
    emit("index-beyond-size", proof, j + 1, j, t.Leaf(i), t.Root(j));
  }
}

void AhtLastInclusionCases(Writer* w, const ReferenceAht& t) {
  for (uint64_t i : {1, 6, 7, 13}) {
    const std::vector<Hash> proof = t.Inclusion(i, i);
    auto emit = [&](const std::string& mutation, const std::vector<Hash>& p, uint64_t ci,
                    const Hash& leaf, const Hash& root) {
      w->Emit(
          "aht_last_inclusion", Num(i), mutation, verify::VerifyLastInclusion(p, ci, leaf, root),
          {{"i", Num(ci)}, {"leaf_hash", Hex(leaf)}, {"root", Hex(root)}, {"terms", HexList(p)}});
    };
    emit("valid", proof, i, t.Leaf(i), t.Root(i));
    for (const auto& [mutation, terms] : TermTwins(proof)) {
      emit(mutation, terms, i, t.Leaf(i), t.Root(i));
    }
    emit("wrong-leaf", proof, i, t.Leaf(i + 1), t.Root(i));
    emit("wrong-size", proof, i + 1, t.Leaf(i + 1), t.Root(i + 1));
  }
}

void AhtConsistencyCases(Writer* w, const ReferenceAht& t) {
  const std::pair<uint64_t, uint64_t> cases[] = {{1, 1}, {3, 7},  {4, 7},  {2, 8},
                                                 {5, 5}, {7, 13}, {8, 16}, {6, 17}};
  for (const auto& [i, j] : cases) {
    const std::vector<Hash> proof = t.Consistency(i, j);
    const std::string name = Num(i) + "-" + Num(j);
    auto emit = [&](const std::string& mutation, const std::vector<Hash>& p, uint64_t ci,
                    uint64_t cj, const Hash& ri, const Hash& rj) {
      w->Emit("aht_consistency", name, mutation, verify::VerifyConsistency(p, ci, cj, ri, rj),
              {{"i", Num(ci)},
               {"j", Num(cj)},
               {"root_i", Hex(ri)},
               {"root_j", Hex(rj)},
               {"terms", HexList(p)}});
    };
    emit("valid", proof, i, j, t.Root(i), t.Root(j));
    for (const auto& [mutation, terms] : TermTwins(proof)) {
      emit(mutation, terms, i, j, t.Root(i), t.Root(j));
    }
    emit("wrong-old-root", proof, i, j, Flip(t.Root(i), 3), t.Root(j));
    emit("wrong-new-root", proof, i, j, t.Root(i), Flip(t.Root(j), 3));
    emit("wrong-new-size", proof, i, j + 1, t.Root(i), t.Root(j + 1));
    if (i > 1) emit("wrong-old-size", proof, i - 1, j, t.Root(i - 1), t.Root(j));
    emit("old-size-beyond-new", proof, j + 1, j, t.Root(j + 1), t.Root(j));
  }
}

// ---- Linear and dual proofs (proofs.md §5) over the §8 chains ----

std::string HeaderJson(const TxHeader& h) {
  return InlineObj({{"id", Num(h.id)},
                    {"prev_alh", Hex(h.prev_alh)},
                    {"ts", Int(h.ts)},
                    {"version", Num(h.version)},
                    {"nentries", Num(h.nentries)},
                    {"eh", Hex(h.eh)},
                    {"bl_tx_id", Num(h.bl_tx_id)},
                    {"bl_root", Hex(h.bl_root)}});
}

std::string LinearJson(const LinearProof& p) {
  return InlineObj({{"source_tx_id", Num(p.source_tx_id)},
                    {"target_tx_id", Num(p.target_tx_id)},
                    {"terms", HexList(p.terms)}});
}

void LinearCases(Writer* w, const ReferenceChain& c) {
  const std::pair<uint64_t, uint64_t> cases[] = {{1, 1}, {3, 8}, {7, 8}};
  for (const auto& [s, t] : cases) {
    const LinearProof proof = c.Linear(s, t);
    const std::string name = "c1-" + Num(s) + "-" + Num(t);
    auto emit = [&](const std::string& mutation, const LinearProof& p, uint64_t cs, uint64_t ct,
                    const Hash& sa, const Hash& ta) {
      w->Emit("linear", name, mutation, verify::VerifyLinearProof(p, cs, ct, sa, ta),
              {{"source_tx_id", Num(cs)},
               {"target_tx_id", Num(ct)},
               {"source_alh", Hex(sa)},
               {"target_alh", Hex(ta)},
               {"proof", LinearJson(p)}});
    };
    emit("valid", proof, s, t, c.Alh(s), c.Alh(t));
    for (const auto& [mutation, terms] : TermTwins(proof.terms)) {
      LinearProof bad = proof;
      bad.terms = terms;
      emit(mutation, bad, s, t, c.Alh(s), c.Alh(t));
    }
    emit("wrong-target-alh", proof, s, t, c.Alh(s), Flip(c.Alh(t), 9));
    LinearProof bad = proof;
    bad.target_tx_id = t + 1;
    emit("wrong-target-id", bad, s, t + 1, c.Alh(s), c.Alh(t + 1));
  }
}

std::string AdvanceJson(const std::optional<LinearAdvanceProof>& adv) {
  if (!adv) return "null";
  std::string incl = "[";
  for (size_t i = 0; i < adv->inclusion_proofs.size(); i++) {
    incl += (i ? ", " : "") + HexList(adv->inclusion_proofs[i]);
  }
  return InlineObj(
      {{"linear_proof_terms", HexList(adv->linear_proof_terms)}, {"inclusion_proofs", incl + "]"}});
}

// Single changes to a dual proof that Go's VerifyDualProof rejects as well:
// each touches bytes some step checks.
std::vector<std::pair<std::string, DualProof>> DualTwins(const DualProof& p) {
  std::vector<std::pair<std::string, DualProof>> out;
  auto add = [&](const std::string& name) -> DualProof& {
    out.push_back({name, p});
    return out.back().second;
  };
  const TxHeader& src = p.source_tx_header;
  const TxHeader& tgt = p.target_tx_header;
  add("source-header-ts").source_tx_header.ts++;
  add("target-header-eh").target_tx_header.eh[0] ^= 1;
  if (src.id < tgt.bl_tx_id) {
    add("inclusion-flip-term0").inclusion_proof[0][31] ^= 0x80;
    add("inclusion-missing-last-term").inclusion_proof.pop_back();
  }
  if (src.bl_tx_id > 0) {
    if (!p.consistency_proof.empty())
      add("consistency-flip-last-term").consistency_proof.back()[5] ^= 4;
    add("consistency-extra-term").consistency_proof.push_back(kExtra);
  }
  if (tgt.bl_tx_id > 0) add("target-bl-tx-alh-flip").target_bl_tx_alh[16] ^= 1;
  if (!p.last_inclusion_proof.empty()) add("last-inclusion-flip").last_inclusion_proof[0][0] ^= 2;
  add("linear-flip-last-term").linear_proof.terms.back()[1] ^= 1;
  add("linear-missing-last-term").linear_proof.terms.pop_back();
  add("linear-wrong-source-id").linear_proof.source_tx_id++;
  if (p.linear_advance_proof) {
    add("advance-absent").linear_advance_proof.reset();
    add("advance-flip-term0").linear_advance_proof->linear_proof_terms[0][2] ^= 1;
    add("advance-inclusion-flip").linear_advance_proof->inclusion_proofs[0][0][3] ^= 1;
  }
  return out;
}

void DualCases(Writer* w, const std::string& chain_name, const ReferenceChain& c,
               const std::vector<std::pair<uint64_t, uint64_t>>& pairs) {
  for (const auto& [s, t] : pairs) {
    const std::string name = chain_name + "-" + Num(s) + "-" + Num(t);
    auto emit = [&](const std::string& mutation, const DualProof& p, uint64_t cs, uint64_t ct,
                    const Hash& sa, const Hash& ta) {
      w->Emit("dual", name, mutation, verify::VerifyDualProof(p, cs, ct, sa, ta),
              {{"source_tx_id", Num(cs)},
               {"target_tx_id", Num(ct)},
               {"source_alh", Hex(sa)},
               {"target_alh", Hex(ta)},
               {"source_header", HeaderJson(p.source_tx_header)},
               {"target_header", HeaderJson(p.target_tx_header)},
               {"inclusion_proof", HexList(p.inclusion_proof)},
               {"consistency_proof", HexList(p.consistency_proof)},
               {"target_bl_tx_alh", Hex(p.target_bl_tx_alh)},
               {"last_inclusion_proof", HexList(p.last_inclusion_proof)},
               {"linear_proof", LinearJson(p.linear_proof)},
               {"linear_advance_proof", AdvanceJson(p.linear_advance_proof)}});
    };
    const DualProof proof = c.Dual(s, t);
    emit("valid", proof, s, t, c.Alh(s), c.Alh(t));
    for (const auto& [mutation, bad] : DualTwins(proof)) {
      emit(mutation, bad, s, t, c.Alh(s), c.Alh(t));
    }
    emit("wrong-source-alh", proof, s, t, Flip(c.Alh(s), 1), c.Alh(t));
    emit("wrong-target-id", proof, s, t + 1, c.Alh(s), c.Alh(t + 1));
  }
}

// A chain whose BlTxID lags as immudb <= v1.4.0 could write: BlTxID moves in
// steps of 4, so some proofs need a linear advance proof.
Result<ReferenceChain> LaggingChain(uint64_t n) {
  ReferenceChain c;
  for (uint64_t id = 1; id <= n; id++) {
    const std::vector<TxEntry> entries = testutil::SpecChainEntries(id);
    TxHeader hdr;
    hdr.ts = 1700000000 + static_cast<int64_t>(id);
    hdr.version = 1;
    hdr.nentries = static_cast<uint32_t>(entries.size());
    IMMUDB_ASSIGN_OR_RETURN(hdr.eh, ComputeEh(1, entries));
    hdr.bl_tx_id = (id - 1) / 4 * 4;
    IMMUDB_RETURN_IF_ERROR(c.AppendLinked(hdr));
  }
  return c;
}

int Run(const std::string& dir) {
  for (const char* kind : {"htree_inclusion", "aht_inclusion", "aht_last_inclusion",
                           "aht_consistency", "linear", "dual"}) {
    std::error_code ec;
    std::filesystem::remove_all(std::filesystem::path(dir) / kind, ec);
  }
  Writer w(dir);
  HtreeCases(&w);
  const ReferenceAht aht = testutil::SpecA1Tree(18);
  AhtInclusionCases(&w, aht);
  AhtLastInclusionCases(&w, aht);
  AhtConsistencyCases(&w, aht);

  Result<ReferenceChain> c1 = testutil::BuildSpecChain(1, 9);
  Result<ReferenceChain> c0 = testutil::BuildSpecChain(0, 9);
  Result<ReferenceChain> lag = LaggingChain(13);
  if (!c1.ok() || !c0.ok() || !lag.ok()) {
    std::fprintf(stderr, "proofgen: cannot build the test chains\n");
    return 1;
  }
  LinearCases(&w, *c1);
  DualCases(&w, "c1", *c1, {{3, 8}, {1, 1}, {1, 8}});
  DualCases(&w, "c0", *c0, {{3, 8}});
  DualCases(&w, "lagging", *lag, {{3, 11}});
  if (!w.ok()) return 1;
  std::printf("proofgen: wrote %d files under %s\n", w.count(), dir.c_str());
  return 0;
}

}  // namespace
}  // namespace immudb::proofgen

int main(int argc, char** argv) {
  return immudb::proofgen::Run(argc > 1 ? argv[1] : "testdata/proofs");
}
