// Read path: committed transactions, values and proofs. Every read checks what
// it returns: commit and tx records by checksum, headers by their Alh, values
// by their hash. Nothing failing a check is returned as valid.
#include <algorithm>
#include <cassert>
#include <chrono>
#include <string>

#include "htree/htree.h"
#include "store/store_impl.h"
#include "util/coding.h"
#include "util/crc32c.h"
#include "util/op_phases.h"

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
  CommitRecord rec;
  IMMUDB_RETURN_IF_ERROR(LoadCommitRecords(id, 1, &rec));
  return rec;
}

Status StoreImpl::LoadCommitRecords(uint64_t first, size_t count, CommitRecord* out) const {
  static constexpr size_t kMax = 2;
  assert(count >= 1 && count <= kMax);
  const uint64_t off = (first - 1) * kCommitRecordSize;
  uint8_t buf[kMax * kCommitRecordSize];
  IMMUDB_RETURN_IF_ERROR(
      clog_->ReadAt(off, count * kCommitRecordSize, reinterpret_cast<char*>(buf)));
  for (size_t k = 0; k < count; k++) {
    auto rec = DecodeCommitRecord(buf + k * kCommitRecordSize);
    if (!rec.ok() || rec->tx_id != first + k) {
      return Status::Corruption("commit log record at offset " +
                                std::to_string(off + k * kCommitRecordSize) + " is damaged (tx " +
                                std::to_string(first + k) + ")");
    }
    out[k] = *rec;
  }
  return Status::OK();
}

Status StoreImpl::CheckCommittedId(uint64_t id) const {
  if (id == 0 || id > committed_id()) {
    return Status::NotFound("tx " + std::to_string(id) + " not found");
  }
  return Status::OK();
}

Result<CommitRecord> StoreImpl::ReadCommitRecord(uint64_t id) const {
  IMMUDB_RETURN_IF_ERROR(CheckCommittedId(id));
  return LoadCommitRecord(id);
}

Status StoreImpl::CheckTxRecordLen(const CommitRecord& rec) const {
  if (rec.tx_len < kTxRecordPrefixSize + kTxHeaderSize || rec.tx_len > kMaxTxRecordLen) {
    return Status::Corruption(TxRecordWhere(rec) + ": bad record length");
  }
  return Status::OK();
}

Result<Tx> StoreImpl::ReadTxAt(const CommitRecord& rec, const Hash* prev_alh) const {
  IMMUDB_RETURN_IF_ERROR(CheckTxRecordLen(rec));
  std::string buf(rec.tx_len, '\0');
  IMMUDB_RETURN_IF_ERROR(txlog_->ReadAt(rec.tx_off, rec.tx_len, buf.data()));
  return DecodeTxAt(rec, buf, prev_alh);
}

Result<Tx> StoreImpl::DecodeTxAt(const CommitRecord& rec, std::string_view buf,
                                 const Hash* prev_alh) const {
  IMMUDB_ASSIGN_OR_RETURN(Tx tx, DecodeTxRecord(rec.tx_id, rec.tx_off, buf.substr(0, rec.tx_len)));
  const TxHeader& h = tx.header;
  auto alh = h.Alh();
  if (!alh.ok() || *alh != rec.alh) {
    return Status::Corruption(TxRecordWhere(rec) + ": header does not hash to the committed Alh");
  }
  if (prev_alh != nullptr && *prev_alh != h.prev_alh) {
    return Status::Corruption(TxRecordWhere(rec) + ": PrevAlh breaks the chain");
  }
  return tx;
}

Result<Tx> StoreImpl::DecodeTxRecord(uint64_t id, uint64_t off, std::string_view record) const {
  auto where = [&] { return TxRecordWhere(CommitRecord{.tx_id = id, .tx_off = off}); };
  const auto* p = reinterpret_cast<const uint8_t*>(record.data());
  const std::string_view payload = record.substr(kTxRecordPrefixSize);
  if (GetU32BE(p) != payload.size() ||
      crc32c::Unmask(GetU32BE(p + 4)) != crc32c::Value(payload.data(), payload.size())) {
    return Status::Corruption(where() + ": checksum mismatch");
  }
  auto tx = DecodeTxPayload(payload);
  if (!tx.ok()) return tx.status().WithPrefix(where());
  const TxHeader& h = tx->header;
  if (h.id != id || h.nentries != tx->entries.size()) {
    return Status::Corruption(where() + ": header does not match its commit record");
  }
  auto eh = ComputeEh(h.version, tx->entries);
  if (!eh.ok() || *eh != h.eh) return Status::Corruption(where() + ": entries do not hash to Eh");
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

Status StoreImpl::LoadTxCommitRecord(uint64_t id, CommitRecord* rec, Hash* prev_alh) const {
  IMMUDB_RETURN_IF_ERROR(CheckCommittedId(id));
  if (id == 1) {
    IMMUDB_ASSIGN_OR_RETURN(*rec, LoadCommitRecord(1));
    *prev_alh = EmptyHash();
    return Status::OK();
  }
  // The commit record of tx id - 1, just before, holds the Alh tx id must
  // chain to: one read for both.
  CommitRecord recs[2];
  IMMUDB_RETURN_IF_ERROR(LoadCommitRecords(id - 1, 2, recs));
  *rec = recs[1];
  *prev_alh = recs[0].alh;
  return Status::OK();
}

Result<Tx> StoreImpl::ReadTx(uint64_t id) const {
  CommitRecord rec;
  Hash prev_alh;
  IMMUDB_RETURN_IF_ERROR(LoadTxCommitRecord(id, &rec, &prev_alh));
  return ReadTxAt(rec, &prev_alh);
}

Result<Tx> StoreImpl::ReadTxAndValue(uint64_t id, const TxEntry& entry, std::string* value) const {
  CommitRecord rec;
  Hash prev_alh;
  IMMUDB_RETURN_IF_ERROR(LoadTxCommitRecord(id, &rec, &prev_alh));
  IMMUDB_RETURN_IF_ERROR(CheckTxRecordLen(rec));
  // The value and the record in one read when the value lies in the tx log
  // shortly before the record (a larger gap holds other values of the tx,
  // read for nothing) and truncation has not discarded it.
  static constexpr uint64_t kMaxGap = 4096;
  const bool joint = shared_vlog() && entry.vlen > 0 && entry.voff < rec.tx_off &&
                     entry.vlen <= rec.tx_off - entry.voff && rec.tx_off - entry.voff <= kMaxGap &&
                     entry.voff >= truncated_voff_.load(std::memory_order_acquire);
  if (!joint) {
    IMMUDB_ASSIGN_OR_RETURN(Tx tx, ReadTxAt(rec, &prev_alh));
    IMMUDB_ASSIGN_OR_RETURN(*value, ReadValue(entry));
    return tx;
  }
  const uint64_t gap = rec.tx_off - entry.voff;
  std::string buf(gap + rec.tx_len, '\0');
  IMMUDB_RETURN_IF_ERROR(txlog_->ReadAt(entry.voff, buf.size(), buf.data()));
  IMMUDB_ASSIGN_OR_RETURN(Tx tx, DecodeTxAt(rec, std::string_view(buf).substr(gap), &prev_alh));
  IMMUDB_RETURN_IF_ERROR(CheckValue(entry, std::string_view(buf.data(), entry.vlen)));
  buf.resize(entry.vlen);
  *value = std::move(buf);
  return tx;
}

Result<Tx> StoreImpl::ReadTxBesideFirstValue(uint64_t id, const TxEntry& entry,
                                             std::string* value) const {
  // Format 3 puts a tx's values after their total length and its record after
  // them: from the first value both are one read away, with no commit record.
  // Enough bytes for the record of a tx of one small entry.
  static constexpr uint64_t kRecordGuess = 512;
  if (!framed() || !shared_vlog() || entry.vlen == 0 || entry.voff < kTxValuesFrameSize ||
      entry.voff - kTxValuesFrameSize < truncated_voff_.load(std::memory_order_acquire)) {
    return Status::NotFound("no record beside the value");
  }
  const uint64_t start = entry.voff - kTxValuesFrameSize;
  const uint64_t size = txlog_->Size();
  if (start >= size) return Status::NotFound("no record beside the value");
  const uint64_t want = kTxValuesFrameSize + uint64_t{entry.vlen} + kRecordGuess;
  std::string buf(static_cast<size_t>(std::min(want, size - start)), '\0');
  IMMUDB_RETURN_IF_ERROR(txlog_->ReadAt(start, buf.size(), buf.data()));
  const auto* p = reinterpret_cast<const uint8_t*>(buf.data());
  const uint64_t values_len = GetU64BE(p);
  if (values_len < entry.vlen || values_len > buf.size() ||
      buf.size() - values_len < kTxValuesFrameSize + kTxRecordPrefixSize) {
    return Status::NotFound("no record beside the value");
  }
  const uint64_t rec_off = kTxValuesFrameSize + values_len;
  const uint64_t rec_len = kTxRecordPrefixSize + uint64_t{GetU32BE(p + rec_off)};
  if (rec_len > buf.size() - rec_off) return Status::NotFound("record past the bytes read");
  IMMUDB_ASSIGN_OR_RETURN(
      Tx tx, DecodeTxRecord(id, start + rec_off, std::string_view(buf).substr(rec_off, rec_len)));
  // The index's entry must be this tx's first one.
  if (tx.entries.empty()) return Status::NotFound("a record without entries");
  const TxEntry& first = tx.entries.front();
  if (first.key != entry.key || first.md != entry.md || first.hval != entry.hval ||
      first.vlen != entry.vlen || first.voff != entry.voff) {
    return Status::NotFound("the value is not the record's first");
  }
  IMMUDB_RETURN_IF_ERROR(
      CheckValue(entry, std::string_view(buf.data() + kTxValuesFrameSize, entry.vlen)));
  value->assign(buf.data() + kTxValuesFrameSize, entry.vlen);
  return tx;
}

Result<Tx> StoreImpl::ReadTxAndValueWithProof(uint64_t id, uint32_t index, const TxEntry& entry,
                                              const TxHeader& target, std::string* value,
                                              DualProof* proof) const {
  IMMUDB_RETURN_IF_ERROR(CheckCommittedId(id));
  if (index == 0 && id < target.id) {
    // The record found beside the value is the committed one when its
    // header hashes to the tx's leaf in the AHT, which the proof's own reads
    // bring: H(0x00 || Alh) is that leaf, and the Alh covers every header
    // field, the header the entries (Eh). Anything else takes the commit log.
    Result<Tx> tx = [&] {
      PhaseScope phase(OpPhase::kTx);
      return ReadTxBesideFirstValue(id, entry, value);
    }();
    if (tx.ok()) {
      Hash leaf;
      Result<DualProof> p = DualProofWithLeaf(tx->header, target, &leaf);
      const Result<Hash> alh = tx->header.Alh();
      if (p.ok() && alh.ok() && LeafHash(*alh) == leaf) {
        *proof = std::move(p).value();
        return tx;
      }
    }
    value->clear();
  }
  Result<Tx> tx = [&] {
    PhaseScope phase(OpPhase::kTx);
    return ReadTxAndValue(id, entry, value);
  }();
  IMMUDB_RETURN_IF_ERROR(tx.status());
  IMMUDB_ASSIGN_OR_RETURN(*proof, BuildDualProof(tx->header, target));
  return tx;
}

Status StoreImpl::ReadTxsFollowingShared(uint64_t from, size_t max_txs,
                                         std::vector<std::shared_ptr<const Tx>>* out) const {
  const uint64_t last = committed_id();
  if (from == 0) return Status::InvalidArgument("tx ids start at 1");
  uint64_t id = from;
  {
    std::lock_guard<std::mutex> g(recent_mu_);
    // Older than the ring: read them from the logs first (below).
    if (recent_count_ > 0 && id >= recent_first_) {
      for (; id <= last && max_txs > 0; id++, max_txs--) {
        if (id - recent_first_ >= recent_count_) break;
        out->push_back(recent_[static_cast<size_t>((id - recent_base_) % kRecentTxs)]);
      }
      return Status::OK();
    }
  }
  for (; id <= last && max_txs > 0; id++, max_txs--) {
    IMMUDB_ASSIGN_OR_RETURN(Tx tx, ReadTx(id));
    out->push_back(std::make_shared<const Tx>(std::move(tx)));
  }
  return Status::OK();
}

void StoreImpl::KeepRecentTxsAfter(uint64_t tx) const {
  keep_after_.store(tx, std::memory_order_relaxed);
}

Status StoreImpl::ReadTxsFollowing(uint64_t from, size_t max_txs, std::vector<Tx>* out) const {
  // The shared txs are copied outside recent_mu_.
  std::vector<std::shared_ptr<const Tx>> shared;
  IMMUDB_RETURN_IF_ERROR(ReadTxsFollowingShared(from, max_txs, &shared));
  out->reserve(out->size() + shared.size());
  for (const std::shared_ptr<const Tx>& tx : shared) out->push_back(*tx);
  return Status::OK();
}

Result<TxHeader> StoreImpl::ReadTxHeader(uint64_t id) const {
  TxHeader h;
  if (headers_.Lookup(id, &h)) return h;
  IMMUDB_ASSIGN_OR_RETURN(CommitRecord rec, ReadCommitRecord(id));
  IMMUDB_ASSIGN_OR_RETURN(h, ReadHeaderAt(rec));
  headers_.Insert(h);
  return h;
}

Result<Hash> StoreImpl::TxAlh(uint64_t id) const {
  if (id == 0) return EmptyHash();
  {
    // The last committed tx's Alh is at hand.
    std::lock_guard<std::mutex> g(state_mu_);
    if (id == committed_id_.load(std::memory_order_relaxed)) return committed_alh_;
  }
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
  // A mapped read shows the file: a value still in the write buffer reads as
  // zeros there and fails its hash, so it is read again through the log.
  if (entry.vlen > 0 && map_values_.load(std::memory_order_relaxed) &&
      value_map_->Read(entry.voff, entry.vlen, v.data()) && Sha256Of(v) == entry.hval) {
    return v;
  }
  if (entry.vlen > 0) IMMUDB_RETURN_IF_ERROR(vlog_->ReadAt(entry.voff, entry.vlen, v.data()));
  IMMUDB_RETURN_IF_ERROR(CheckValue(entry, v));
  return v;
}

Status StoreImpl::CheckValue(const TxEntry& entry, std::string_view v) const {
  if (Sha256Of(v) == entry.hval) return Status::OK();
  // A truncation may have discarded the bytes while they were read.
  if (entry.vlen > 0 && entry.voff < truncated_voff_.load(std::memory_order_acquire)) {
    return ValueTruncated(entry);
  }
  return Status::Corruption("value at value log offset " + std::to_string(entry.voff) +
                            " does not match its hash");
}

Status StoreImpl::ReadValueLogRange(uint64_t offset, size_t n, char* dst) const {
  if (n == 0) return Status::OK();
  return vlog_->ReadAt(offset, n, dst);
}

void StoreImpl::LimitValueMap(uint64_t bytes) {
  if (value_map_) value_map_->LowerBudget(bytes);
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
  return DualProofWithLeaf(source, target, nullptr);
}

Result<DualProof> StoreImpl::DualProofWithLeaf(const TxHeader& source, const TxHeader& target,
                                               Hash* source_leaf) const {
  if (source.id == 0 || source.id > target.id || target.id > committed_id() ||
      source.bl_tx_id > target.bl_tx_id) {
    return Status::InvalidArgument("invalid dual proof range");
  }
  DualProof p;
  p.source_tx_header = source;
  p.target_tx_header = target;
  // The three AHT proofs at once: their low-level terms lie in neighbouring
  // records, read together.
  using Kind = AHTreeProofSpec::Kind;
  std::vector<AHTreeProofSpec> specs;
  std::vector<std::vector<Hash>*> outs;
  if (source.id < target.bl_tx_id) {
    specs.push_back({Kind::kInclusion, source.id, target.bl_tx_id});
    outs.push_back(&p.inclusion_proof);
  }
  if (source.bl_tx_id > 0) {
    specs.push_back({Kind::kConsistency, source.bl_tx_id, target.bl_tx_id});
    outs.push_back(&p.consistency_proof);
  }
  if (target.bl_tx_id > 0) {
    specs.push_back({Kind::kInclusion, target.bl_tx_id, target.bl_tx_id});
    outs.push_back(&p.last_inclusion_proof);
  }
  // The source's own leaf, with the terms: its record lies among theirs.
  std::vector<Hash> leaf;
  if (source_leaf != nullptr) {
    specs.push_back({Kind::kLeaf, source.id, source.id});
    outs.push_back(&leaf);
  }
  if (!specs.empty()) {
    PhaseScope phase(OpPhase::kAhtProof);
    IMMUDB_ASSIGN_OR_RETURN(std::vector<std::vector<Hash>> proofs, aht_->Proofs(specs));
    for (size_t k = 0; k < outs.size(); k++) *outs[k] = std::move(proofs[k]);
  }
  if (source_leaf != nullptr) {
    if (leaf.size() != 1) return Status::Internal("ahtree: a leaf proof without one term");
    *source_leaf = leaf[0];
  }
  // A target header that hashes to the committed Alh of its tx is that tx's
  // header (the Alh covers every field): its PrevAlh and inner hash are the
  // Alh of the tx before it and its linear proof term, without reading them.
  PhaseScope phase(OpPhase::kLinearProof);
  IMMUDB_ASSIGN_OR_RETURN(Hash target_alh, TxAlh(target.id));
  const Result<Hash> target_inner = target.Inner();
  const bool committed =
      target_inner.ok() && AlhFrom(target.id, target.prev_alh, *target_inner) == target_alh;
  if (target.bl_tx_id == 0) {
    p.target_bl_tx_alh = ZeroHash();
  } else if (committed && target.bl_tx_id + 1 == target.id) {
    p.target_bl_tx_alh = target.prev_alh;
  } else {
    IMMUDB_ASSIGN_OR_RETURN(p.target_bl_tx_alh, TxAlh(target.bl_tx_id));
  }
  const uint64_t from = source.id > target.bl_tx_id ? source.id : target.bl_tx_id;
  if (committed && from + 1 >= target.id) {
    p.linear_proof.source_tx_id = from;
    p.linear_proof.target_tx_id = target.id;
    if (from == target.id) {
      p.linear_proof.terms = {target_alh};
    } else {
      p.linear_proof.terms = {target.prev_alh, *target_inner};
    }
  } else {
    IMMUDB_ASSIGN_OR_RETURN(p.linear_proof, BuildLinearProof(from, target.id));
  }
  // With BlTxID = ID - 1 on every header the advance proof is never needed
  // (proofs.md §5.4); headers from this store always satisfy that.
  if (source.bl_tx_id + 1 < (source.id < target.bl_tx_id ? source.id : target.bl_tx_id)) {
    return Status::Unimplemented("linear advance proofs are not generated");
  }
  return p;
}

}  // namespace immudb::store
