#include "server/convert.h"

#include <cstring>

namespace immudb::server {
namespace {

void SetHash(const Hash& h, std::string* out) {
  out->assign(reinterpret_cast<const char*>(h.data()), h.size());
}

Status ToHash(const std::string& bytes, Hash* out) {
  if (bytes.size() != kHashSize) {
    return Status::InvalidArgument("hash of " + std::to_string(bytes.size()) + " bytes");
  }
  std::memcpy(out->data(), bytes.data(), kHashSize);
  return Status::OK();
}

template <class Repeated>
Status ToHashes(const Repeated& in, std::vector<Hash>* out) {
  out->resize(in.size());
  for (int i = 0; i < in.size(); ++i) IMMUDB_RETURN_IF_ERROR(ToHash(in[i], &(*out)[i]));
  return Status::OK();
}

template <class Repeated>
void AddHashes(const std::vector<Hash>& in, Repeated* out) {
  for (const Hash& h : in) out->Add(std::string(reinterpret_cast<const char*>(h.data()), h.size()));
}

}  // namespace

void ToProto(const TxHeader& h, schema::TxHeader* out) {
  out->set_id(h.id);
  SetHash(h.prev_alh, out->mutable_prevalh());
  out->set_ts(h.ts);
  out->set_nentries(static_cast<int32_t>(h.nentries));
  SetHash(h.eh, out->mutable_eh());
  out->set_bltxid(h.bl_tx_id);
  SetHash(h.bl_root, out->mutable_blroot());
  out->set_version(h.version);
}

void ToProto(const TxEntry& e, schema::TxEntry* out) {
  out->set_key(e.key);
  SetHash(e.hval, out->mutable_hvalue());
  out->set_vlen(static_cast<int32_t>(e.vlen));
  MaybeSetMetadata(e.md, out);
}

void ToProto(const Tx& tx, schema::Tx* out) {
  ToProto(tx.header, out->mutable_header());
  for (const TxEntry& e : tx.entries) ToProto(e, out->add_entries());
}

void ToProto(const InclusionProof& p, schema::InclusionProof* out) {
  out->set_leaf(static_cast<int32_t>(p.leaf));
  out->set_width(static_cast<int32_t>(p.width));
  AddHashes(p.terms, out->mutable_terms());
}

void ToProto(const DualProof& p, schema::DualProof* out) {
  ToProto(p.source_tx_header, out->mutable_sourcetxheader());
  ToProto(p.target_tx_header, out->mutable_targettxheader());
  AddHashes(p.inclusion_proof, out->mutable_inclusionproof());
  AddHashes(p.consistency_proof, out->mutable_consistencyproof());
  SetHash(p.target_bl_tx_alh, out->mutable_targetbltxalh());
  AddHashes(p.last_inclusion_proof, out->mutable_lastinclusionproof());
  auto* lp = out->mutable_linearproof();
  lp->set_sourcetxid(p.linear_proof.source_tx_id);
  lp->set_targettxid(p.linear_proof.target_tx_id);
  AddHashes(p.linear_proof.terms, lp->mutable_terms());
  if (p.linear_advance_proof) {
    auto* lap = out->mutable_linearadvanceproof();
    AddHashes(p.linear_advance_proof->linear_proof_terms, lap->mutable_linearproofterms());
    for (const auto& terms : p.linear_advance_proof->inclusion_proofs) {
      AddHashes(terms, lap->add_inclusionproofs()->mutable_terms());
    }
  }
}

void ToProto(const Entry& e, schema::Entry* out) {
  out->set_tx(e.tx);
  out->set_key(e.key);
  out->set_value(e.value);
  if (e.referenced_by) {
    auto* r = out->mutable_referencedby();
    r->set_tx(e.referenced_by->tx);
    r->set_key(e.referenced_by->key);
    r->set_attx(e.referenced_by->at_tx);
    MaybeSetMetadata(e.referenced_by->md, r);
    r->set_revision(e.referenced_by->revision);
  }
  MaybeSetMetadata(e.md, out);
  out->set_expired(e.expired);
  out->set_revision(e.revision);
}

void ToProto(const ZEntry& e, schema::ZEntry* out) {
  out->set_set(e.set);
  out->set_key(e.key);
  ToProto(e.entry, out->mutable_entry());
  out->set_score(e.score);
  out->set_attx(e.at_tx);
}

void ToProto(const VerifiableTx& v, schema::VerifiableTx* out) {
  ToProto(v.tx, out->mutable_tx());
  ToProto(v.dual_proof, out->mutable_dualproof());
}

void ToProto(const VerifiableEntry& v, schema::VerifiableEntry* out) {
  ToProto(v.entry, out->mutable_entry());
  ToProto(v.verifiable_tx, out->mutable_verifiabletx());
  ToProto(v.inclusion_proof, out->mutable_inclusionproof());
}

KeyValue FromProto(const schema::KeyValue& kv) {
  KeyValue out;
  out.key = kv.key();
  out.value = kv.value();
  if (kv.has_metadata()) out.md = FromProto(kv.metadata());
  return out;
}

KeyRequest FromProto(const schema::KeyRequest& r) {
  KeyRequest out;
  out.key = r.key();
  out.at_tx = r.attx();
  out.since_tx = r.sincetx();
  out.no_wait = r.nowait();
  out.at_revision = r.atrevision();
  return out;
}

ReferenceRequest FromProto(const schema::ReferenceRequest& r) {
  ReferenceRequest out;
  out.key = r.key();
  out.referenced_key = r.referencedkey();
  out.at_tx = r.attx();
  out.bound_ref = r.boundref();
  out.no_wait = r.nowait();
  return out;
}

ZAddRequest FromProto(const schema::ZAddRequest& r) {
  ZAddRequest out;
  out.set = r.set();
  out.score = r.score();
  out.key = r.key();
  out.at_tx = r.attx();
  out.bound_ref = r.boundref();
  out.no_wait = r.nowait();
  return out;
}

Result<Precondition> FromProto(const schema::Precondition& p) {
  Precondition out;
  switch (p.precondition_case()) {
    case schema::Precondition::kKeyMustExist:
      out.kind = Precondition::Kind::kKeyMustExist;
      out.key = p.keymustexist().key();
      break;
    case schema::Precondition::kKeyMustNotExist:
      out.kind = Precondition::Kind::kKeyMustNotExist;
      out.key = p.keymustnotexist().key();
      break;
    case schema::Precondition::kKeyNotModifiedAfterTX:
      out.kind = Precondition::Kind::kKeyNotModifiedAfterTx;
      out.key = p.keynotmodifiedaftertx().key();
      out.tx_id = p.keynotmodifiedaftertx().txid();
      break;
    default:
      return Status::InvalidArgument("invalid precondition: null");
  }
  return out;
}

Result<std::vector<Precondition>> FromProto(
    const google::protobuf::RepeatedPtrField<schema::Precondition>& ps) {
  std::vector<Precondition> out;
  out.reserve(ps.size());
  for (const schema::Precondition& p : ps) {
    IMMUDB_ASSIGN_OR_RETURN(Precondition c, FromProto(p));
    out.push_back(std::move(c));
  }
  return out;
}

Result<TxHeader> FromProto(const schema::TxHeader& h) {
  TxHeader out;
  if (h.nentries() < 0 || h.version() < 0 || h.version() > 0xffff) {
    return Status::InvalidArgument("bad tx header");
  }
  out.id = h.id();
  IMMUDB_RETURN_IF_ERROR(ToHash(h.prevalh(), &out.prev_alh));
  out.ts = h.ts();
  out.nentries = static_cast<uint32_t>(h.nentries());
  IMMUDB_RETURN_IF_ERROR(ToHash(h.eh(), &out.eh));
  out.bl_tx_id = h.bltxid();
  IMMUDB_RETURN_IF_ERROR(ToHash(h.blroot(), &out.bl_root));
  out.version = static_cast<uint16_t>(h.version());
  return out;
}

Result<InclusionProof> FromProto(const schema::InclusionProof& p) {
  if (p.leaf() < 0 || p.width() < 0) return Status::InvalidArgument("bad inclusion proof");
  InclusionProof out;
  out.leaf = static_cast<uint64_t>(p.leaf());
  out.width = static_cast<uint64_t>(p.width());
  IMMUDB_RETURN_IF_ERROR(ToHashes(p.terms(), &out.terms));
  return out;
}

Result<DualProof> FromProto(const schema::DualProof& p) {
  DualProof out;
  IMMUDB_ASSIGN_OR_RETURN(out.source_tx_header, FromProto(p.sourcetxheader()));
  IMMUDB_ASSIGN_OR_RETURN(out.target_tx_header, FromProto(p.targettxheader()));
  IMMUDB_RETURN_IF_ERROR(ToHashes(p.inclusionproof(), &out.inclusion_proof));
  IMMUDB_RETURN_IF_ERROR(ToHashes(p.consistencyproof(), &out.consistency_proof));
  IMMUDB_RETURN_IF_ERROR(ToHash(p.targetbltxalh(), &out.target_bl_tx_alh));
  IMMUDB_RETURN_IF_ERROR(ToHashes(p.lastinclusionproof(), &out.last_inclusion_proof));
  out.linear_proof.source_tx_id = p.linearproof().sourcetxid();
  out.linear_proof.target_tx_id = p.linearproof().targettxid();
  IMMUDB_RETURN_IF_ERROR(ToHashes(p.linearproof().terms(), &out.linear_proof.terms));
  if (p.has_linearadvanceproof()) {
    LinearAdvanceProof lap;
    IMMUDB_RETURN_IF_ERROR(
        ToHashes(p.linearadvanceproof().linearproofterms(), &lap.linear_proof_terms));
    for (const auto& ip : p.linearadvanceproof().inclusionproofs()) {
      lap.inclusion_proofs.emplace_back();
      IMMUDB_RETURN_IF_ERROR(ToHashes(ip.terms(), &lap.inclusion_proofs.back()));
    }
    out.linear_advance_proof = std::move(lap);
  }
  return out;
}

Result<TxEntry> FromProto(const schema::TxEntry& e) {
  TxEntry out;
  out.key = e.key();
  IMMUDB_RETURN_IF_ERROR(ToHash(e.hvalue(), &out.hval));
  if (e.vlen() < 0) return Status::InvalidArgument("bad vLen");
  out.vlen = static_cast<uint32_t>(e.vlen());
  if (e.has_metadata()) out.md = FromProto(e.metadata());
  return out;
}

}  // namespace immudb::server
