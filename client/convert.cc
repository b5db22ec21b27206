#include "client/convert.h"

#include <cstring>
#include <limits>

namespace immudb::client {
namespace {

Status AppendHashes(const google::protobuf::RepeatedPtrField<std::string>& in,
                    std::vector<Hash>* out, const char* what) {
  out->reserve(in.size());
  for (const std::string& b : in) {
    Result<Hash> h = HashFromBytes(b);
    if (!h.ok()) return h.status().WithPrefix(what);
    out->push_back(*h);
  }
  return Status::OK();
}

Result<uint64_t> NonNegative(int64_t v, const char* what) {
  if (v < 0) return Status::InvalidArgument(std::string(what) + " is negative");
  return static_cast<uint64_t>(v);
}

}  // namespace

Result<Hash> HashFromBytes(const std::string& bytes) {
  if (bytes.size() != kHashSize) {
    return Status::InvalidArgument("hash of " + std::to_string(bytes.size()) + " bytes");
  }
  Hash h;
  std::memcpy(h.data(), bytes.data(), kHashSize);
  return h;
}

Result<TxHeader> FromProto(const schema::TxHeader& h) {
  TxHeader out;
  out.id = h.id();
  out.ts = h.ts();
  if (h.version() < 0 || h.version() > std::numeric_limits<uint16_t>::max()) {
    return Status::InvalidArgument("tx header version out of range");
  }
  out.version = static_cast<uint16_t>(h.version());
  IMMUDB_ASSIGN_OR_RETURN(uint64_t n, NonNegative(h.nentries(), "tx header nentries"));
  out.nentries = static_cast<uint32_t>(n);
  IMMUDB_ASSIGN_OR_RETURN(out.eh, HashFromBytes(h.eh()));
  out.bl_tx_id = h.bltxid();
  IMMUDB_ASSIGN_OR_RETURN(out.bl_root, HashFromBytes(h.blroot()));
  IMMUDB_ASSIGN_OR_RETURN(out.prev_alh, HashFromBytes(h.prevalh()));
  return out;
}

Result<TxEntry> FromProto(const schema::TxEntry& e) {
  TxEntry out;
  out.key = e.key();
  if (e.has_metadata()) out.md = FromProto(e.metadata());
  IMMUDB_ASSIGN_OR_RETURN(out.hval, HashFromBytes(e.hvalue()));
  IMMUDB_ASSIGN_OR_RETURN(uint64_t vlen, NonNegative(e.vlen(), "tx entry vLen"));
  out.vlen = static_cast<uint32_t>(vlen);
  return out;
}

Result<Tx> FromProto(const schema::Tx& tx) {
  Tx out;
  if (!tx.has_header()) return Status::InvalidArgument("tx without header");
  IMMUDB_ASSIGN_OR_RETURN(out.header, FromProto(tx.header()));
  out.entries.reserve(tx.entries_size());
  for (const schema::TxEntry& e : tx.entries()) {
    IMMUDB_ASSIGN_OR_RETURN(TxEntry entry, FromProto(e));
    out.entries.push_back(std::move(entry));
  }
  return out;
}

Result<InclusionProof> FromProto(const schema::InclusionProof& p) {
  InclusionProof out;
  IMMUDB_ASSIGN_OR_RETURN(out.leaf, NonNegative(p.leaf(), "inclusion proof leaf"));
  IMMUDB_ASSIGN_OR_RETURN(out.width, NonNegative(p.width(), "inclusion proof width"));
  IMMUDB_RETURN_IF_ERROR(AppendHashes(p.terms(), &out.terms, "inclusion proof"));
  return out;
}

Result<DualProof> FromProto(const schema::DualProof& p) {
  DualProof out;
  if (!p.has_sourcetxheader() || !p.has_targettxheader()) {
    return Status::InvalidArgument("dual proof without headers");
  }
  IMMUDB_ASSIGN_OR_RETURN(out.source_tx_header, FromProto(p.sourcetxheader()));
  IMMUDB_ASSIGN_OR_RETURN(out.target_tx_header, FromProto(p.targettxheader()));
  IMMUDB_RETURN_IF_ERROR(AppendHashes(p.inclusionproof(), &out.inclusion_proof, "dual proof"));
  IMMUDB_RETURN_IF_ERROR(AppendHashes(p.consistencyproof(), &out.consistency_proof, "dual proof"));
  IMMUDB_ASSIGN_OR_RETURN(out.target_bl_tx_alh, HashFromBytes(p.targetbltxalh()));
  IMMUDB_RETURN_IF_ERROR(
      AppendHashes(p.lastinclusionproof(), &out.last_inclusion_proof, "dual proof"));
  if (!p.has_linearproof()) return Status::InvalidArgument("dual proof without linear proof");
  out.linear_proof.source_tx_id = p.linearproof().sourcetxid();
  out.linear_proof.target_tx_id = p.linearproof().targettxid();
  IMMUDB_RETURN_IF_ERROR(
      AppendHashes(p.linearproof().terms(), &out.linear_proof.terms, "linear proof"));
  if (p.has_linearadvanceproof()) {
    LinearAdvanceProof adv;
    const schema::LinearAdvanceProof& in = p.linearadvanceproof();
    IMMUDB_RETURN_IF_ERROR(
        AppendHashes(in.linearproofterms(), &adv.linear_proof_terms, "linear advance proof"));
    for (const schema::InclusionProof& ip : in.inclusionproofs()) {
      std::vector<Hash> terms;
      IMMUDB_RETURN_IF_ERROR(AppendHashes(ip.terms(), &terms, "linear advance proof"));
      adv.inclusion_proofs.push_back(std::move(terms));
    }
    out.linear_advance_proof = std::move(adv);
  }
  return out;
}

Entry FromProto(const schema::Entry& e) {
  Entry out;
  out.tx = e.tx();
  out.key = e.key();
  out.value = e.value();
  out.revision = e.revision();
  if (e.has_metadata()) out.md = FromProto(e.metadata());
  out.expired = e.expired();
  if (e.has_referencedby()) {
    const schema::Reference& r = e.referencedby();
    Reference ref;
    ref.tx = r.tx();
    ref.key = r.key();
    ref.at_tx = r.attx();
    ref.revision = r.revision();
    if (r.has_metadata()) ref.md = FromProto(r.metadata());
    out.referenced_by = std::move(ref);
  }
  return out;
}

Result<State> FromProto(const schema::ImmutableState& s) {
  State out;
  out.db = s.db();
  out.tx_id = s.txid();
  IMMUDB_ASSIGN_OR_RETURN(out.tx_hash, HashFromBytes(s.txhash()));
  if (s.has_signature()) out.signature = s.signature().signature();
  return out;
}

void ToProto(const ReadOptions& opts, schema::KeyRequest* out) {
  out->set_attx(opts.at_tx);
  out->set_sincetx(opts.since_tx);
  out->set_atrevision(opts.at_revision);
  out->set_nowait(opts.no_wait);
}

}  // namespace immudb::client
