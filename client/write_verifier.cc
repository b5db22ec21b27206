#include "client/write_verifier.h"

#include <string>

#include "client/convert.h"
#include "client/tampering.h"
#include "immudb/database.h"
#include "immudb/verify.h"

namespace immudb::client {
namespace {

std::string Id(uint64_t tx) { return std::to_string(tx); }

// The reply's tx must be one entry (stored_key, no metadata,
// H(stored_value)) whose Eh the dual proof's target header carries.
Result<State> VerifyOneEntry(const schema::VerifiableTx& reply, const std::string& stored_key,
                             const std::string& stored_value, const State& trusted) {
  IMMUDB_ASSIGN_OR_RETURN(Tx tx, Checked(FromProto(reply.tx()), "tx"));
  IMMUDB_ASSIGN_OR_RETURN(DualProof dp, Checked(FromProto(reply.dualproof()), "dual proof"));
  if (tx.header.nentries != 1 || tx.entries.size() != 1) {
    return Tampering("write reply tx " + Id(tx.header.id) + " does not hold exactly one entry");
  }
  const uint16_t version = tx.header.version;
  const TxEntry& entry = tx.entries[0];
  if (entry.key != stored_key) return Tampering("write reply tx holds another key");
  IMMUDB_ASSIGN_OR_RETURN(Hash want, Checked(EntryDigest(version, stored_key, std::string_view(),
                                                         Sha256Of(stored_value)),
                                             "tx entry"));
  IMMUDB_ASSIGN_OR_RETURN(Hash got, Checked(entry.Digest(version), "tx entry"));
  if (got != want) return Tampering("write reply entry is not the one that was written");
  IMMUDB_ASSIGN_OR_RETURN(Hash eh, Checked(ComputeEh(version, tx.entries), "tx"));
  if (eh != dp.target_tx_header.eh) {
    return Tampering("write reply entries do not hash to the target header's Eh");
  }
  TxHeader header = tx.header;
  header.eh = eh;
  IMMUDB_ASSIGN_OR_RETURN(Hash alh, Checked(header.Alh(), "tx header"));
  if (trusted.tx_id > 0 &&
      !verify::VerifyDualProof(dp, trusted.tx_id, header.id, trusted.tx_hash, alh)) {
    return Tampering("dual proof from tx " + Id(trusted.tx_id) + " to tx " + Id(header.id) +
                     " does not verify against the trusted state");
  }
  State next;
  next.db = trusted.db;
  next.tx_id = header.id;
  next.tx_hash = alh;
  if (reply.has_signature()) next.signature = reply.signature().signature();
  return next;
}

}  // namespace

Result<State> VerifyReferenceReply(const schema::VerifiableTx& reply, std::string_view key,
                                   std::string_view referenced_key, uint64_t at_tx,
                                   const State& trusted) {
  return VerifyOneEntry(reply, EncodeKey(key), EncodeReferenceValue(referenced_key, at_tx),
                        trusted);
}

Result<State> VerifyZAddReply(const schema::VerifiableTx& reply, std::string_view set, double score,
                              std::string_view key, uint64_t at_tx, const State& trusted) {
  return VerifyOneEntry(reply, EncodeZAddKey(set, score, key, at_tx), std::string(), trusted);
}

}  // namespace immudb::client
