// Opening a store: directory layout, the format marker, and crash recovery.
// Recovery walks back from the end of the commit log to the newest commit
// record whose tx record and values are all present and check out, cuts every
// log back to that point and syncs the cuts (docs/format/store.md).
#include <chrono>
#include <thread>

#include "immudb/verify.h"
#include "store/store_impl.h"

namespace immudb::store {

namespace {

constexpr char kFormatFile[] = "IMMUDB_STORE";
constexpr char kFormatLine[] = "immudb-cpp store format 1\n";

}  // namespace

StoreImpl::StoreImpl(const std::string& dir, const StoreOptions& opts)
    : dir_(dir), opts_(opts), fs_(opts.fs ? opts.fs : FileSystem::Default()) {}

StoreImpl::~StoreImpl() { (void)Close(); }

Status StoreImpl::OpenAndRecover() {
  if (opts_.max_tx_entries == 0 || opts_.max_key_len == 0 || opts_.max_group_commit_txs == 0) {
    return Status::InvalidArgument("store limits must be positive");
  }
  IMMUDB_RETURN_IF_ERROR(fs_->CreateDir(dir_));
  IMMUDB_ASSIGN_OR_RETURN(lock_, fs_->LockFile(dir_ + "/LOCK"));

  const std::string marker = dir_ + "/" + kFormatFile;
  if (fs_->FileExists(marker)) {
    IMMUDB_ASSIGN_OR_RETURN(std::string content, ReadFileToString(fs_, marker));
    if (content != kFormatLine) {
      return Status::FailedPrecondition("unsupported store format in " + marker);
    }
  } else {
    // A new store: refuse a directory that already holds logs without the
    // marker rather than guess their format.
    for (const char* sub : {"val", "tx", "commit", "aht"}) {
      if (fs_->FileExists(dir_ + "/" + sub)) {
        return Status::Corruption("store format marker " + marker + " is missing");
      }
    }
    IMMUDB_RETURN_IF_ERROR(WriteFileAtomic(fs_, marker, kFormatLine));
  }

  AppendableOptions vo;
  vo.ext = "val";
  vo.segment_size = opts_.value_log_segment_size;
  vo.write_buffer_size = 4 << 20;
  IMMUDB_ASSIGN_OR_RETURN(vlog_, Appendable::Open(fs_, dir_ + "/val", vo));
  AppendableOptions to;
  to.ext = "tx";
  to.segment_size = opts_.tx_log_segment_size;
  IMMUDB_ASSIGN_OR_RETURN(txlog_, Appendable::Open(fs_, dir_ + "/tx", to));
  AppendableOptions co;
  co.ext = "clog";
  co.segment_size = opts_.commit_log_segment_size - opts_.commit_log_segment_size % kCommitRecordSize;
  co.write_buffer_size = 256 << 10;
  if (co.segment_size == 0) return Status::InvalidArgument("commit log segment size too small");
  IMMUDB_ASSIGN_OR_RETURN(clog_, Appendable::Open(fs_, dir_ + "/commit", co));
  AHTreeOptions ao;
  ao.segment_size = opts_.aht_segment_size;
  IMMUDB_ASSIGN_OR_RETURN(aht_, AHTree::Open(fs_, dir_ + "/aht", ao));

  return RecoverTail();
}

Status StoreImpl::RecoverTail() {
  const uint64_t clog_size = clog_->Size();
  const uint64_t n = clog_size / kCommitRecordSize;
  uint64_t good = n;
  CommitRecord last;
  Tx last_tx;
  while (good > 0) {
    const uint64_t off = (good - 1) * kCommitRecordSize;
    uint8_t buf[kCommitRecordSize];
    IMMUDB_RETURN_IF_ERROR(clog_->ReadAt(off, sizeof(buf), reinterpret_cast<char*>(buf)));
    auto rec = DecodeCommitRecord(buf);
    if (!rec.ok() || rec->tx_id != good) {
      // Only the last record may be torn; damage before it is corruption.
      if (good == n) {
        good--;
        continue;
      }
      return Status::Corruption("commit log record at offset " + std::to_string(off) +
                                " is damaged (tx " + std::to_string(good) + ")");
    }
    // A commit record whose data never reached the disk (unsynced mode, or a
    // crash before the data sync) is part of the torn tail.
    if (rec->tx_off + rec->tx_len > txlog_->Size() || rec->vlog_end > vlog_->Size()) {
      good--;
      continue;
    }
    auto tx = ReadTxAt(*rec, /*check_prev=*/false);
    if (!tx.ok()) {
      if (tx.status().IsCorruption() && rec->tx_off + rec->tx_len == txlog_->Size()) {
        good--;  // The last tx record is torn.
        continue;
      }
      return tx.status();
    }
    Status vs = CheckValues(*tx);
    if (!vs.ok()) {
      if (vs.IsCorruption() && rec->vlog_end == vlog_->Size()) {
        good--;  // The values at the end of the value log are torn.
        continue;
      }
      return vs.WithPrefix("tx " + std::to_string(good));
    }
    Hash prev = EmptyHash();
    if (good > 1) {
      uint8_t pbuf[kCommitRecordSize];
      const uint64_t poff = (good - 2) * kCommitRecordSize;
      IMMUDB_RETURN_IF_ERROR(clog_->ReadAt(poff, sizeof(pbuf), reinterpret_cast<char*>(pbuf)));
      auto prec = DecodeCommitRecord(pbuf);
      if (!prec.ok() || prec->tx_id != good - 1) {
        return Status::Corruption("commit log record at offset " + std::to_string(poff) +
                                  " is damaged (tx " + std::to_string(good - 1) + ")");
      }
      prev = prec->alh;
    }
    if (tx->header.prev_alh != prev) {
      return Status::Corruption("tx " + std::to_string(good) + ": PrevAlh breaks the chain");
    }
    last = *rec;
    last_tx = std::move(*tx);
    break;
  }

  // Cut every log back to the last good transaction; each cut is synced.
  if (clog_size != good * kCommitRecordSize) {
    IMMUDB_RETURN_IF_ERROR(clog_->Truncate(good * kCommitRecordSize));
  }
  const uint64_t tx_end = good ? last.tx_off + last.tx_len : 0;
  if (txlog_->Size() > tx_end) IMMUDB_RETURN_IF_ERROR(txlog_->Truncate(tx_end));
  const uint64_t v_end = good ? last.vlog_end : 0;
  if (vlog_->Size() > v_end) IMMUDB_RETURN_IF_ERROR(vlog_->Truncate(v_end));
  IMMUDB_RETURN_IF_ERROR(SyncAhtWithCommitLog(good));

  last_id_ = good;
  last_alh_ = good ? last.alh : EmptyHash();
  last_ts_ = good ? last_tx.header.ts : 0;
  std::lock_guard<std::mutex> g(state_mu_);
  committed_alh_ = last_alh_;
  committed_id_.store(good, std::memory_order_release);
  return Status::OK();
}

// The AHT is derived from the commit log's Alh values: cut leaves past the last
// commit, re-append any that are missing, then check its last leaf.
Status StoreImpl::SyncAhtWithCommitLog(uint64_t n) {
  if (aht_->Size() > n) IMMUDB_RETURN_IF_ERROR(aht_->Truncate(n));
  bool appended = false;
  while (aht_->Size() < n) {
    const uint64_t id = aht_->Size() + 1;
    const uint64_t off = (id - 1) * kCommitRecordSize;
    uint8_t buf[kCommitRecordSize];
    IMMUDB_RETURN_IF_ERROR(clog_->ReadAt(off, sizeof(buf), reinterpret_cast<char*>(buf)));
    auto rec = DecodeCommitRecord(buf);
    if (!rec.ok() || rec->tx_id != id) {
      return Status::Corruption("commit log record at offset " + std::to_string(off) +
                                " is damaged (tx " + std::to_string(id) + ")");
    }
    IMMUDB_RETURN_IF_ERROR(aht_->Append(rec->alh).status());
    appended = true;
  }
  if (appended) IMMUDB_RETURN_IF_ERROR(aht_->Sync());
  if (n == 0) return Status::OK();
  uint8_t buf[kCommitRecordSize];
  IMMUDB_RETURN_IF_ERROR(
      clog_->ReadAt((n - 1) * kCommitRecordSize, sizeof(buf), reinterpret_cast<char*>(buf)));
  IMMUDB_ASSIGN_OR_RETURN(CommitRecord rec, DecodeCommitRecord(buf));
  IMMUDB_ASSIGN_OR_RETURN(std::vector<Hash> proof, aht_->InclusionProof(n, n));
  IMMUDB_ASSIGN_OR_RETURN(Hash root, aht_->RootAt(n));
  if (!verify::VerifyLastInclusion(proof, n, LeafHash(rec.alh), root)) {
    return Status::Corruption("AHT does not hold the Alh of tx " + std::to_string(n));
  }
  return Status::OK();
}

Status StoreImpl::Close() {
  std::unique_lock<std::mutex> l(mu_);
  if (closed_) return Status::OK();
  closed_ = true;
  // Let queued commits finish; new ones are refused from here on.
  while (!writers_.empty()) {
    l.unlock();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    l.lock();
  }
  Status result;
  auto keep_first = [&result](Status s) {
    if (result.ok() && !s.ok()) result = std::move(s);
  };
  const bool healthy = bg_error_.ok();
  l.unlock();
  {
    std::lock_guard<std::mutex> g(state_mu_);
    state_closed_ = true;
  }
  state_cv_.notify_all();
  if (vlog_) {
    if (healthy) keep_first(vlog_->Sync());
    keep_first(vlog_->Close());
  }
  if (txlog_) {
    if (healthy) keep_first(txlog_->Sync());
    keep_first(txlog_->Close());
  }
  if (aht_) {
    if (healthy) keep_first(aht_->Sync());
    keep_first(aht_->Close());
  }
  if (clog_) {
    if (healthy) keep_first(clog_->Sync());
    keep_first(clog_->Close());
  }
  lock_.reset();
  return result;
}

}  // namespace immudb::store

namespace immudb {

Result<std::unique_ptr<Store>> Store::Open(const std::string& dir, const StoreOptions& opts) {
  auto s = std::make_unique<store::StoreImpl>(dir, opts);
  IMMUDB_RETURN_IF_ERROR(s->OpenAndRecover());
  return std::unique_ptr<Store>(std::move(s));
}

}  // namespace immudb
