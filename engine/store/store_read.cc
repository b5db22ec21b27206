// Read path: committed transactions, values and proofs. Every read checks what
// it returns: commit and tx records by checksum, headers by their Alh, values
// by their hash. Nothing failing a check is returned as valid.
#include <chrono>
#include <string>

#include "htree/htree.h"
#include "store/store_impl.h"
#include "util/coding.h"
#include "util/crc32c.h"

namespace immudb::store {

namespace {

// Upper bound on a tx record's size, so a damaged length cannot request an
// absurd allocation. Generous: 65536 entries of the largest key and metadata.
constexpr uint64_t kMaxTxRecordLen =
    kTxRecordPrefixSize + kTxHeaderSize + 65536ull * (kTxEntryFixedSize + 0xffff + 11);

// Where a tx record lies, for error messages; built only when one is returned,
// since every read passes through these checks.
std::string TxRecordWhere(const CommitRecord& rec) {
  return "tx " + std::to_string(rec.tx_id) + " (tx log offset " + std::to_string(rec.tx_off) + ")";
}

}  // namespace

StoreState StoreImpl::CurrentState() const {
  std::lock_guard<std::mutex> g(state_mu_);
  StoreState s;
  s.tx_id = committed_id_.load(std::memory_order_relaxed);
  s.alh = committed_alh_;
  return s;
}

Status StoreImpl::WaitForTx(uint64_t id, uint64_t timeout_ms) const {
  std::unique_lock<std::mutex> l(state_mu_);
  const bool reached = state_cv_.wait_for(l, std::chrono::milliseconds(timeout_ms), [&] {
    return state_closed_ || committed_id_.load(std::memory_order_acquire) >= id;
  });
  if (committed_id_.load(std::memory_order_acquire) >= id) return Status::OK();
  if (state_closed_) return Status::FailedPrecondition("store is closed");
  (void)reached;
  return Status::DeadlineExceeded("tx " + std::to_string(id) + " not committed in time");
}

Result<CommitRecord> StoreImpl::LoadCommitRecord(uint64_t id) const {
  const uint64_t off = (id - 1) * kCommitRecordSize;
  uint8_t buf[kCommitRecordSize];
  IMMUDB_RETURN_IF_ERROR(clog_->ReadAt(off, sizeof(buf), reinterpret_cast<char*>(buf)));
  auto rec = DecodeCommitRecord(buf);
  if (!rec.ok() || rec->tx_id != id) {
    return Status::Corruption("commit log record at offset " + std::to_string(off) +
                              " is damaged (tx " + std::to_string(id) + ")");
  }
  return rec;
}

Result<CommitRecord> StoreImpl::ReadCommitRecord(uint64_t id) const {
  if (id == 0 || id > committed_id()) {
    return Status::NotFound("tx " + std::to_string(id) + " not found");
  }
  return LoadCommitRecord(id);
}

Result<Tx> StoreImpl::ReadTxAt(const CommitRecord& rec, bool check_prev) const {
  if (rec.tx_len < kTxRecordPrefixSize + kTxHeaderSize || rec.tx_len > kMaxTxRecordLen) {
    return Status::Corruption(TxRecordWhere(rec) + ": bad record length");
  }
  std::string buf(rec.tx_len, '\0');
  IMMUDB_RETURN_IF_ERROR(txlog_->ReadAt(rec.tx_off, rec.tx_len, buf.data()));
  const auto* p = reinterpret_cast<const uint8_t*>(buf.data());
  const std::string_view payload(buf.data() + kTxRecordPrefixSize,
                                 rec.tx_len - kTxRecordPrefixSize);
  if (GetU32BE(p) != payload.size() ||
      crc32c::Unmask(GetU32BE(p + 4)) != crc32c::Value(payload.data(), payload.size())) {
    return Status::Corruption(TxRecordWhere(rec) + ": checksum mismatch");
  }
  auto tx = DecodeTxPayload(payload);
  if (!tx.ok()) return tx.status().WithPrefix(TxRecordWhere(rec));
  const TxHeader& h = tx->header;
  if (h.id != rec.tx_id || h.nentries != tx->entries.size()) {
    return Status::Corruption(TxRecordWhere(rec) + ": header does not match its commit record");
  }
  auto eh = ComputeEh(h.version, tx->entries);
  if (!eh.ok() || *eh != h.eh)
    return Status::Corruption(TxRecordWhere(rec) + ": entries do not hash to Eh");
  auto alh = h.Alh();
  if (!alh.ok() || *alh != rec.alh) {
    return Status::Corruption(TxRecordWhere(rec) + ": header does not hash to the committed Alh");
  }
  if (check_prev) {
    IMMUDB_ASSIGN_OR_RETURN(Hash prev, TxAlh(h.id - 1));
    if (prev != h.prev_alh)
      return Status::Corruption(TxRecordWhere(rec) + ": PrevAlh breaks the chain");
  }
  return tx;
}

Result<TxHeader> StoreImpl::ReadHeaderAt(const CommitRecord& rec) const {
  if (rec.tx_len < kTxRecordPrefixSize + kTxHeaderSize) {
    return Status::Corruption(TxRecordWhere(rec) + ": bad record length");
  }
  char buf[kTxRecordPrefixSize + kTxHeaderSize];
  IMMUDB_RETURN_IF_ERROR(txlog_->ReadAt(rec.tx_off, sizeof(buf), buf));
  auto h = DecodeTxHeader(std::string_view(buf + kTxRecordPrefixSize, kTxHeaderSize));
  if (!h.ok()) return h.status().WithPrefix(TxRecordWhere(rec));
  // The Alh covers every header field, so a header that hashes to the
  // committed Alh is the committed header without reading the entries.
  auto alh = h->Alh();
  if (h->id != rec.tx_id || !alh.ok() || *alh != rec.alh) {
    return Status::Corruption(TxRecordWhere(rec) + ": header does not hash to the committed Alh");
  }
  return h;
}

Result<Tx> StoreImpl::ReadTx(uint64_t id) const {
  IMMUDB_ASSIGN_OR_RETURN(CommitRecord rec, ReadCommitRecord(id));
  return ReadTxAt(rec, /*check_prev=*/true);
}

Status StoreImpl::ReadTxsFollowing(uint64_t from, size_t max_txs, std::vector<Tx>* out) const {
  const uint64_t last = committed_id();
  if (from == 0) return Status::InvalidArgument("tx ids start at 1");
  uint64_t id = from;
  {
    std::lock_guard<std::mutex> g(recent_mu_);
    // Older than the ring: read them from the logs first (below).
    if (!recent_.empty() && id >= recent_first_) {
      for (; id <= last && max_txs > 0; id++, max_txs--) {
        const uint64_t k = id - recent_first_;
        if (k >= recent_.size()) break;
        out->push_back(recent_[k]);
      }
      return Status::OK();
    }
  }
  for (; id <= last && max_txs > 0; id++, max_txs--) {
    IMMUDB_ASSIGN_OR_RETURN(Tx tx, ReadTx(id));
    out->push_back(std::move(tx));
  }
  return Status::OK();
}

Result<TxHeader> StoreImpl::ReadTxHeader(uint64_t id) const {
  IMMUDB_ASSIGN_OR_RETURN(CommitRecord rec, ReadCommitRecord(id));
  return ReadHeaderAt(rec);
}

Result<Hash> StoreImpl::TxAlh(uint64_t id) const {
  if (id == 0) return EmptyHash();
  IMMUDB_ASSIGN_OR_RETURN(CommitRecord rec, ReadCommitRecord(id));
  return rec.alh;
}

Result<std::string> StoreImpl::ReadValue(const TxEntry& entry) const {
  // Bound the value before allocating, without overflow: the entry may come
  // from the caller.
  const uint64_t size = vlog_->Size();
  if (entry.vlen > 0 && (entry.voff > size || entry.vlen > size - entry.voff)) {
    return Status::Corruption("value at value log offset " + std::to_string(entry.voff) +
                              " lies past the end of the value log");
  }
  // Values are appended in tx order: those below truncated_voff_ belong to
  // txs whose values truncation discarded.
  const bool truncated =
      entry.vlen > 0 && entry.voff < truncated_voff_.load(std::memory_order_acquire);
  if (truncated) return ValueTruncated(entry);
  std::string v(entry.vlen, '\0');
  if (entry.vlen > 0) IMMUDB_RETURN_IF_ERROR(vlog_->ReadAt(entry.voff, entry.vlen, v.data()));
  if (Sha256Of(v) != entry.hval) {
    // A truncation may have discarded the bytes while they were read.
    if (entry.vlen > 0 && entry.voff < truncated_voff_.load(std::memory_order_acquire)) {
      return ValueTruncated(entry);
    }
    return Status::Corruption("value at value log offset " + std::to_string(entry.voff) +
                              " does not match its hash");
  }
  return v;
}

Status StoreImpl::CheckValues(const Tx& tx) const {
  // Discarded by truncation: nothing left to check.
  if (tx.header.id <= TruncatedUpTo()) return Status::OK();
  for (const TxEntry& e : tx.entries) IMMUDB_RETURN_IF_ERROR(ReadValue(e).status());
  return Status::OK();
}

Result<InclusionProof> StoreImpl::EntryInclusionProof(uint64_t id, size_t index) const {
  IMMUDB_ASSIGN_OR_RETURN(Tx tx, ReadTx(id));
  return TxEntryInclusionProof(tx, index);
}

Result<LinearProof> StoreImpl::BuildLinearProof(uint64_t s, uint64_t t) const {
  if (s == 0 || s > t || t > committed_id()) {
    return Status::InvalidArgument("invalid linear proof range");
  }
  LinearProof p;
  p.source_tx_id = s;
  p.target_tx_id = t;
  p.terms.reserve(t - s + 1);
  IMMUDB_ASSIGN_OR_RETURN(Hash first, TxAlh(s));
  p.terms.push_back(first);
  for (uint64_t x = s + 1; x <= t; x++) {
    IMMUDB_ASSIGN_OR_RETURN(TxHeader h, ReadTxHeader(x));
    IMMUDB_ASSIGN_OR_RETURN(Hash inner, h.Inner());
    p.terms.push_back(inner);
  }
  return p;
}

Result<DualProof> StoreImpl::BuildDualProof(const TxHeader& source, const TxHeader& target) const {
  if (source.id == 0 || source.id > target.id || target.id > committed_id() ||
      source.bl_tx_id > target.bl_tx_id) {
    return Status::InvalidArgument("invalid dual proof range");
  }
  DualProof p;
  p.source_tx_header = source;
  p.target_tx_header = target;
  if (source.id < target.bl_tx_id) {
    IMMUDB_ASSIGN_OR_RETURN(p.inclusion_proof, aht_->InclusionProof(source.id, target.bl_tx_id));
  }
  if (source.bl_tx_id > 0) {
    IMMUDB_ASSIGN_OR_RETURN(p.consistency_proof,
                            aht_->ConsistencyProof(source.bl_tx_id, target.bl_tx_id));
  }
  if (target.bl_tx_id > 0) {
    IMMUDB_ASSIGN_OR_RETURN(p.target_bl_tx_alh, TxAlh(target.bl_tx_id));
    IMMUDB_ASSIGN_OR_RETURN(p.last_inclusion_proof,
                            aht_->InclusionProof(target.bl_tx_id, target.bl_tx_id));
  } else {
    p.target_bl_tx_alh = ZeroHash();
  }
  const uint64_t from = source.id > target.bl_tx_id ? source.id : target.bl_tx_id;
  IMMUDB_ASSIGN_OR_RETURN(p.linear_proof, BuildLinearProof(from, target.id));
  // With BlTxID = ID - 1 on every header the advance proof is never needed
  // (proofs.md §5.4); headers from this store always satisfy that.
  if (source.bl_tx_id + 1 < (source.id < target.bl_tx_id ? source.id : target.bl_tx_id)) {
    return Status::Unimplemented("linear advance proofs are not generated");
  }
  return p;
}

}  // namespace immudb::store
