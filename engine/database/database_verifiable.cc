// Verifiable replies (proofs.md §7): the tx, the htree inclusion proof of the
// entry the client rebuilds, and the DualProof between the client's trusted
// tx (prove_since_tx) and the tx that holds the entry.
#include "database/database_impl.h"
#include "htree/htree.h"
#include "util/op_phases.h"

namespace immudb::database {

Status DatabaseImpl::CheckProveSinceTx(uint64_t prove_since_tx) const {
  IMMUDB_RETURN_IF_ERROR(CheckOpen());
  if (prove_since_tx > store_->CurrentState().tx_id) {
    return Status::InvalidArgument("illegal state");
  }
  return Status::OK();
}

Result<VerifiableTx> DatabaseImpl::ProveTx(uint64_t tx_id, uint64_t prove_since_tx,
                                           const TxHeader* trusted) const {
  Result<Tx> tx = [&] {
    PhaseScope phase(OpPhase::kTx);
    return store_->ReadTx(tx_id);
  }();
  if (!tx.ok()) return tx.status().IsNotFound() ? Status::NotFound("tx not found") : tx.status();
  return ProveReadTx(std::move(tx).value(), prove_since_tx, trusted);
}

Result<TxHeader> DatabaseImpl::TrustedHeader(uint64_t prove_since_tx) const {
  PhaseScope phase(OpPhase::kTxHeader);
  return store_->ReadTxHeader(prove_since_tx);
}

Result<VerifiableTx> DatabaseImpl::ProveReadTx(Tx tx, uint64_t prove_since_tx,
                                               const TxHeader* trusted) const {
  VerifiableTx vt;
  const uint64_t tx_id = tx.header.id;
  vt.tx = std::move(tx);
  // No trusted state: the proof runs from the tx to itself. Otherwise the
  // older of the two is the source.
  TxHeader source = vt.tx.header;
  TxHeader target = vt.tx.header;
  if (prove_since_tx > 0) {
    TxHeader root;
    if (trusted != nullptr) {
      root = *trusted;
    } else {
      IMMUDB_ASSIGN_OR_RETURN(root, TrustedHeader(prove_since_tx));
    }
    if (prove_since_tx <= tx_id) {
      source = root;
    } else {
      target = root;
    }
  }
  IMMUDB_ASSIGN_OR_RETURN(vt.dual_proof, store_->BuildDualProof(source, target));
  return vt;
}

Result<VerifiableTx> DatabaseImpl::VerifiableSet(const std::vector<KeyValue>& kvs, bool no_wait,
                                                 uint64_t prove_since_tx,
                                                 const std::vector<Precondition>& preconditions) {
  IMMUDB_RETURN_IF_ERROR(CheckProveSinceTx(prove_since_tx));
  IMMUDB_ASSIGN_OR_RETURN(TxHeader h, Set(kvs, no_wait, preconditions));
  return ProveTx(h.id, prove_since_tx);
}

Result<VerifiableTx> DatabaseImpl::VerifiableSetReference(const ReferenceRequest& req,
                                                          uint64_t prove_since_tx) {
  IMMUDB_RETURN_IF_ERROR(CheckProveSinceTx(prove_since_tx));
  IMMUDB_ASSIGN_OR_RETURN(TxHeader h, SetReference(req));
  return ProveTx(h.id, prove_since_tx);
}

Result<VerifiableTx> DatabaseImpl::VerifiableZAdd(const ZAddRequest& req, uint64_t prove_since_tx) {
  IMMUDB_RETURN_IF_ERROR(CheckProveSinceTx(prove_since_tx));
  IMMUDB_ASSIGN_OR_RETURN(TxHeader h, ZAdd(req));
  return ProveTx(h.id, prove_since_tx);
}

Result<VerifiableTx> DatabaseImpl::VerifiableTxById(uint64_t id, uint64_t prove_since_tx) {
  if (id == 0) return Status::InvalidArgument("illegal arguments");
  IMMUDB_RETURN_IF_ERROR(CheckOpen());
  const uint64_t last = store_->CurrentState().tx_id;
  if (prove_since_tx > last) {
    return Status::InvalidArgument(
        "illegal state: latest txID=" + std::to_string(last) +
        " is lower than specified as initial tx=" + std::to_string(prove_since_tx));
  }
  return ProveTx(id, prove_since_tx);
}

Result<VerifiableEntry> DatabaseImpl::VerifiableGet(const KeyRequest& req,
                                                    uint64_t prove_since_tx) {
  IMMUDB_RETURN_IF_ERROR(CheckProveSinceTx(prove_since_tx));
  VerifiableEntry ve;
  // The latest version of a plain key comes with its tx, read together with
  // the value, and, when the trusted tx is newer, with the dual proof to it.
  std::optional<TxHeader> trusted;
  if (prove_since_tx > 0) {
    IMMUDB_ASSIGN_OR_RETURN(trusted, TrustedHeader(prove_since_tx));
  }
  TxRead read;
  read.target = trusted ? &*trusted : nullptr;
  IMMUDB_ASSIGN_OR_RETURN(ve.entry, GetUnlocked(req, &read));
  // The client rebuilds the entry it asked for: the reference entry when one
  // was followed, else the plain entry.
  uint64_t v_tx = ve.entry.tx;
  std::string v_key = ve.entry.key;
  if (ve.entry.referenced_by) {
    v_tx = ve.entry.referenced_by->tx;
    v_key = ve.entry.referenced_by->key;
  }
  if (read.tx && read.proof) {
    ve.verifiable_tx.tx = std::move(*read.tx);
    ve.verifiable_tx.dual_proof = std::move(*read.proof);
  } else if (read.tx) {
    IMMUDB_ASSIGN_OR_RETURN(ve.verifiable_tx,
                            ProveReadTx(std::move(*read.tx), prove_since_tx, read.target));
  } else {
    IMMUDB_ASSIGN_OR_RETURN(ve.verifiable_tx, ProveTx(v_tx, prove_since_tx, read.target));
  }
  const std::string stored = EncodeKey(v_key);
  const Tx& tx = ve.verifiable_tx.tx;
  for (size_t i = 0; i < tx.entries.size(); i++) {
    if (tx.entries[i].key != stored) continue;
    // The tx was read and checked (its entries hash to Eh) above: build the
    // inclusion proof from it rather than read it again.
    PhaseScope phase(OpPhase::kInclusion);
    IMMUDB_ASSIGN_OR_RETURN(ve.inclusion_proof, TxEntryInclusionProof(tx, i));
    return ve;
  }
  return Status::Internal("entry of key not found in tx " + std::to_string(v_tx));
}

}  // namespace immudb::database
