#include "client/verifier.h"

#include <string>

#include "client/convert.h"
#include "client/tampering.h"
#include "htree/htree.h"
#include "immudb/database.h"
#include "immudb/verify.h"

namespace immudb::client {
namespace {

std::string Id(uint64_t tx) { return std::to_string(tx); }

// Source and target of the dual proof, from the trusted state and tx `v_tx`
// whose header the proof carries on the side away from the trusted state.
struct Ends {
  uint64_t source_id = 0;
  Hash source_alh{};
  uint64_t target_id = 0;
  Hash target_alh{};
  const TxHeader* v_header = nullptr;  // Header of v_tx inside the proof.
};

Result<Ends> PickEnds(const DualProof& dp, uint64_t v_tx, const State& trusted) {
  Ends e;
  if (trusted.tx_id <= v_tx) {
    e.v_header = &dp.target_tx_header;
    e.source_id = trusted.tx_id;
    e.source_alh = trusted.tx_hash;
    e.target_id = v_tx;
    IMMUDB_ASSIGN_OR_RETURN(e.target_alh, Checked(dp.target_tx_header.Alh(), "target header"));
  } else {
    e.v_header = &dp.source_tx_header;
    e.source_id = v_tx;
    IMMUDB_ASSIGN_OR_RETURN(e.source_alh, Checked(dp.source_tx_header.Alh(), "source header"));
    e.target_id = trusted.tx_id;
    e.target_alh = trusted.tx_hash;
  }
  if (e.v_header->id != v_tx) {
    return Tampering("proof is for tx " + Id(e.v_header->id) + ", not tx " + Id(v_tx));
  }
  return e;
}

// The dual proof from the trusted state, then the new state.
Result<State> Advance(const DualProof& dp, const Ends& e, const State& trusted,
                      const schema::VerifiableTx& reply) {
  if (trusted.tx_id > 0 &&
      !verify::VerifyDualProof(dp, e.source_id, e.target_id, e.source_alh, e.target_alh)) {
    return Tampering("dual proof from tx " + Id(e.source_id) + " to tx " + Id(e.target_id) +
                     " does not verify against the trusted state");
  }
  State next;
  next.db = trusted.db;
  next.tx_id = e.target_id;
  next.tx_hash = e.target_alh;
  if (reply.has_signature()) next.signature = reply.signature().signature();
  return next;
}

}  // namespace

Result<State> VerifySetReply(const schema::VerifiableTx& reply, std::string_view key,
                             std::string_view value, const State& trusted) {
  IMMUDB_ASSIGN_OR_RETURN(Tx tx, Checked(FromProto(reply.tx()), "tx"));
  IMMUDB_ASSIGN_OR_RETURN(DualProof dp, Checked(FromProto(reply.dualproof()), "dual proof"));
  if (tx.header.nentries != 1 || tx.entries.size() != 1) {
    return Tampering("set reply tx " + Id(tx.header.id) + " does not hold exactly one entry");
  }
  const uint16_t version = tx.header.version;
  std::vector<Hash> digests;
  for (const TxEntry& entry : tx.entries) {
    IMMUDB_ASSIGN_OR_RETURN(Hash d, Checked(entry.Digest(version), "tx entry"));
    digests.push_back(d);
  }
  HTree tree;
  tree.Build(digests);
  const Hash eh = tree.Root();

  const std::string stored_key = EncodeKey(key);
  size_t index = 0;
  while (index < tx.entries.size() && tx.entries[index].key != stored_key) ++index;
  if (index == tx.entries.size()) return Tampering("set reply tx lacks the key that was set");
  const KVMetadata& md = tx.entries[index].md;
  if (md.deleted) return Tampering("set reply entry is marked deleted");
  IMMUDB_ASSIGN_OR_RETURN(Hash digest, Checked(EntryDigest(version, stored_key, md.Encode(),
                                                           Sha256Of(EncodeValue(value))),
                                               "tx entry"));
  IMMUDB_ASSIGN_OR_RETURN(InclusionProof proof, Checked(tree.Proof(index), "tx entry"));
  if (!verify::VerifyHtreeInclusion(proof, digest, eh)) {
    return Tampering("set reply entry is not the key and value that were set");
  }
  if (eh != dp.target_tx_header.eh) {
    return Tampering("set reply entries do not hash to the target header's Eh");
  }
  TxHeader header = tx.header;
  header.eh = eh;
  Ends e;
  e.source_id = trusted.tx_id;
  e.source_alh = trusted.tx_hash;
  e.target_id = header.id;
  IMMUDB_ASSIGN_OR_RETURN(e.target_alh, Checked(header.Alh(), "tx header"));
  return Advance(dp, e, trusted, reply);
}

Result<State> VerifyGetReply(const schema::VerifiableEntry& reply,
                             const schema::KeyRequest& request, const State& trusted) {
  const schema::Entry& entry = reply.entry();
  const schema::VerifiableTx& vtx = reply.verifiabletx();
  IMMUDB_ASSIGN_OR_RETURN(DualProof dp, Checked(FromProto(vtx.dualproof()), "dual proof"));
  IMMUDB_ASSIGN_OR_RETURN(InclusionProof proof,
                          Checked(FromProto(reply.inclusionproof()), "inclusion proof"));
  const std::string& key = request.key();
  KVMetadata md;
  std::string stored_value;
  uint64_t v_tx = request.attx();
  if (!entry.has_referencedby()) {
    if (entry.key() != key) return Tampering("get reply is for another key");
    if (entry.has_metadata()) md = FromProto(entry.metadata());
    stored_value = EncodeValue(entry.value());
    if (v_tx == 0) v_tx = entry.tx();
  } else {
    const schema::Reference& ref = entry.referencedby();
    if (ref.key() != key) return Tampering("get reply is for another reference key");
    if (ref.has_metadata()) md = FromProto(ref.metadata());
    stored_value = EncodeReferenceValue(entry.key(), ref.attx());
    if (v_tx == 0) v_tx = ref.tx();
  }
  IMMUDB_ASSIGN_OR_RETURN(Ends e, PickEnds(dp, v_tx, trusted));
  IMMUDB_ASSIGN_OR_RETURN(Hash digest, Checked(EntryDigest(e.v_header->version, EncodeKey(key),
                                                           md.Encode(), Sha256Of(stored_value)),
                                               "entry"));
  if (!verify::VerifyHtreeInclusion(proof, digest, e.v_header->eh)) {
    return Tampering("entry of key is not included in tx " + Id(v_tx));
  }
  return Advance(dp, e, trusted, vtx);
}

Result<State> VerifyTxReply(const schema::VerifiableTx& reply, uint64_t tx_id,
                            const State& trusted) {
  IMMUDB_ASSIGN_OR_RETURN(DualProof dp, Checked(FromProto(reply.dualproof()), "dual proof"));
  IMMUDB_ASSIGN_OR_RETURN(Tx tx, Checked(FromProto(reply.tx()), "tx"));
  IMMUDB_ASSIGN_OR_RETURN(Ends e, PickEnds(dp, tx_id, trusted));
  if (tx.header != *e.v_header) return Tampering("tx header differs from the proven header");
  if (tx.entries.size() == tx.header.nentries) {
    IMMUDB_ASSIGN_OR_RETURN(Hash eh, Checked(ComputeEh(tx.header.version, tx.entries), "tx"));
    if (eh != tx.header.eh) return Tampering("tx entries do not hash to the header's Eh");
  }
  return Advance(dp, e, trusted, reply);
}

}  // namespace immudb::client
