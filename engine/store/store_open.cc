// Opening a store: directory layout, the format marker, and crash recovery.
// Recovery walks back from the end of the commit log to the newest commit
// record whose tx record and values are all present and check out, cuts every
// log back to that point and syncs the cuts (docs/format/store.md).
#include <chrono>
#include <thread>

#include "ahtree/ahtree_format.h"
#include "htree/htree.h"
#include "immudb/verify.h"
#include "store/store_impl.h"
#include "util/coding.h"
#include "util/crc32c.h"

namespace immudb::store {

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
    if (content == kFormat1Line) {
      format_ = 1;
    } else if (content == kFormat2Line) {
      format_ = 2;
    } else if (content == kFormat3Line) {
      format_ = 3;
    } else {
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
    IMMUDB_RETURN_IF_ERROR(WriteFileAtomic(fs_, marker, std::string(kFormat3Line)));
    format_ = 3;
  }
  const bool format1 = format_ == 1;

  AppendableOptions to;
  to.ext = "tx";
  to.segment_size = opts_.tx_log_segment_size;
  if (format1) {
    AppendableOptions vo;
    vo.ext = "val";
    vo.segment_size = opts_.value_log_segment_size;
    vo.write_buffer_size = 4 << 20;
    IMMUDB_ASSIGN_OR_RETURN(vlog_file_, Appendable::Open(fs_, dir_ + "/val", vo));
  } else {
    to.write_buffer_size = 4 << 20;
  }
  // Format 3: the tx log is the one file a batch must fsync; keeping zeros
  // written ahead of it spares most of those fsyncs a metadata journal commit
  // (recovery finds the end from the records and cuts the zeros).
  if (format_ >= 3) to.prezero_ahead = kTxLogPrezeroAhead;
  // Unsynced mode writes each batch without syncing it: copying it into the
  // zeros through a mapping saves a system call per batch. Synced rounds
  // would pay for the mapping at every fdatasync instead.
  to.map_appends = !opts_.synced;
  IMMUDB_ASSIGN_OR_RETURN(txlog_, Appendable::Open(fs_, dir_ + "/tx", to));
  vlog_ = format1 ? vlog_file_.get() : txlog_.get();
  AppendableOptions co;
  co.ext = "clog";
  co.segment_size =
      opts_.commit_log_segment_size - opts_.commit_log_segment_size % kCommitRecordSize;
  co.write_buffer_size = 256 << 10;
  if (co.segment_size == 0) return Status::InvalidArgument("commit log segment size too small");
  IMMUDB_ASSIGN_OR_RETURN(clog_, Appendable::Open(fs_, dir_ + "/commit", co));
  AHTreeOptions ao;
  ao.segment_size = opts_.aht_segment_size;
  ao.block_cache_bytes = opts_.aht_block_cache_bytes;
  // What a batch may leave unsynced in the AHT (store_commit.cc): up to
  // kAhtLazyBytes, one batch more, and a write buffer's worth.
  ao.torn_window = AhtTornWindow(opts_.max_group_commit_txs, ao.write_buffer_size);
  static_assert(ahtree::kMaxRecordSize <= 2084);
  auto aht = AHTree::Open(fs_, dir_ + "/aht", ao);
  if (!aht.ok() && aht.status().IsCorruption()) {
    // The AHT is derived from the Alh values in the commit log, which every
    // read checks against the tx records: rebuild it rather than refuse to
    // open (recovery re-appends every leaf), and say so.
    notes_.push_back("AHT unreadable (" + aht.status().message() +
                     "); rebuilt from the commit log");
    IMMUDB_RETURN_IF_ERROR(RemoveDirFiles(dir_ + "/aht"));
    aht = AHTree::Open(fs_, dir_ + "/aht", ao);
  }
  IMMUDB_ASSIGN_OR_RETURN(aht_, std::move(aht));

  // Recovery must know which values truncation discarded before it checks any.
  IMMUDB_RETURN_IF_ERROR(LoadTruncationMark());
  IMMUDB_RETURN_IF_ERROR(RecoverTail());
  IMMUDB_RETURN_IF_ERROR(CheckTruncationMark());
  // Recovery has cut the logs; from here on they only grow.
  if (opts_.value_map_bytes > 0) {
    value_map_ =
        shared_vlog()
            ? std::make_unique<ValueMap>(fs_, dir_ + "/tx", "tx", opts_.tx_log_segment_size,
                                         opts_.value_map_bytes)
            : std::make_unique<ValueMap>(fs_, dir_ + "/val", "val", opts_.value_log_segment_size,
                                         opts_.value_map_bytes);
    map_values_.store(true);
  }
  return Status::OK();
}

Status StoreImpl::RemoveDirFiles(const std::string& dir) {
  IMMUDB_ASSIGN_OR_RETURN(std::vector<std::string> names, fs_->GetChildren(dir));
  for (const std::string& name : names) IMMUDB_RETURN_IF_ERROR(fs_->RemoveFile(dir + "/" + name));
  return fs_->SyncDir(dir);
}

Status StoreImpl::CheckTxForRecovery(const CommitRecord& rec, const Hash& prev_alh, Tx* tx) const {
  const std::string where = "tx " + std::to_string(rec.tx_id);
  if (rec.tx_off + rec.tx_len > txlog_->Size() || rec.vlog_end > vlog_->Size()) {
    return Status::Corruption(where + ": data lies past the end of the logs");
  }
  IMMUDB_ASSIGN_OR_RETURN(*tx, ReadTxAt(rec, /*prev_alh=*/nullptr));
  if (tx->header.prev_alh != prev_alh) {
    return Status::Corruption(where + ": PrevAlh breaks the chain");
  }
  for (const TxEntry& e : tx->entries) {
    if (e.voff + e.vlen > rec.vlog_end) {
      return Status::Corruption(where + ": value lies past the tx's value log end");
    }
  }
  return CheckValues(*tx).WithPrefix(where);
}

Status StoreImpl::RecoverTail() {
  const uint64_t clog_size = clog_->Size();
  const uint64_t n = clog_size / kCommitRecordSize;

  // 1. The newest intact commit record; records after it are the torn tail.
  uint64_t r = n;
  CommitRecord newest;
  while (r > 0) {
    auto rec = LoadCommitRecord(r);
    if (rec.ok()) {
      newest = *rec;
      break;
    }
    r--;
  }

  // 2. Every tx up to newest.durable_upto was durable before the newest record
  //    was written. The txs after it were not: check each one completely, in
  //    order, and keep the longest prefix that checks out.
  uint64_t durable = r > 0 ? newest.durable_upto : 0;
  // The durable mark of the last clean close moves `durable` up to the last
  // tx then: damage before it is never a torn tail. The mark is only a hint
  // (a missing or damaged one is ignored), but the tx it names must be there.
  uint64_t mark_id = 0;
  Hash mark_alh{};
  const std::string mark_path = dir_ + "/" + kDurableFile;
  if (fs_->FileExists(mark_path)) {
    auto content = ReadFileToString(fs_, mark_path);
    if (!content.ok()) return content.status();
    auto mark = DecodeDurableMark(*content);
    if (mark.ok()) {
      mark_id = mark->first;
      mark_alh = mark->second;
    } else {
      notes_.push_back("ignored the durable mark: " + mark.status().message());
    }
  }
  if (mark_id > durable && mark_id <= r) durable = mark_id;
  uint64_t good = 0;
  CommitRecord good_rec;
  int64_t good_ts = 0;
  std::vector<Hash> tail_alhs;
  Hash prev = EmptyHash();
  if (durable > 0) {
    // Damage here is not a torn tail: it was durable.
    IMMUDB_ASSIGN_OR_RETURN(good_rec, LoadCommitRecord(durable));
    if (durable == mark_id && good_rec.alh != mark_alh) {
      return Status::Corruption("commit record of tx " + std::to_string(durable) +
                                " does not hold the Alh of the durable mark");
    }
    IMMUDB_ASSIGN_OR_RETURN(TxHeader h, ReadHeaderAt(good_rec));
    good = durable;
    good_ts = h.ts;
    prev = good_rec.alh;
  }
  for (uint64_t k = durable + 1; k <= r; k++) {
    auto rec = LoadCommitRecord(k);
    if (!rec.ok()) break;
    Tx tx;
    Status st = CheckTxForRecovery(*rec, prev, &tx);
    if (!st.ok()) {
      if (st.IsCorruption()) break;  // Torn: cut here.
      return st;                     // I/O errors stop the open.
    }
    good = k;
    good_rec = *rec;
    good_ts = tx.header.ts;
    prev = rec->alh;
    tail_alhs.push_back(rec->alh);
  }

  if (good < n) {
    notes_.push_back("cut a torn tail of " + std::to_string(n - good) +
                     " commit record(s) after tx " + std::to_string(good));
  }

  // 3. Cut the commit log back to tx `good` (the cut is synced) and bring the
  //    AHT to the same tx.
  if (clog_size != good * kCommitRecordSize) {
    IMMUDB_RETURN_IF_ERROR(clog_->Truncate(good * kCommitRecordSize));
  }
  IMMUDB_RETURN_IF_ERROR(RebuildAhtTail(durable, tail_alhs));
  uint64_t tx_end = good ? good_rec.tx_off + good_rec.tx_len : 0;
  // 4. Format 3: the commit log is synced lazily, so txs durable in the tx
  //    log may lack their commit records: read them from the tx log.
  if (framed()) {
    const uint64_t before = good;
    IMMUDB_RETURN_IF_ERROR(RecoverFromTxLog(durable, &good, &prev, &good_ts, &tx_end));
    if (good > before) {
      notes_.push_back("recovered " + std::to_string(good - before) + " tx(s) " +
                       std::to_string(before + 1) + ".." + std::to_string(good) +
                       " from the tx log past the commit log");
    }
  }
  if (good < mark_id) {
    return Status::Corruption("tx " + std::to_string(mark_id) +
                              " was durable at the last clean close, but the logs hold only " +
                              std::to_string(good) + " intact txs");
  }
  if (mark_id > 0) {
    IMMUDB_ASSIGN_OR_RETURN(CommitRecord m, LoadCommitRecord(mark_id));
    if (m.alh != mark_alh) {
      return Status::Corruption("tx " + std::to_string(mark_id) +
                                " does not have the Alh the durable mark holds");
    }
  }
  // 5. Cut the tx log (and format 1's value log) back to tx `good`.
  if (txlog_->Size() > tx_end) IMMUDB_RETURN_IF_ERROR(txlog_->Truncate(tx_end));
  const uint64_t v_end = good ? good_rec.vlog_end : 0;
  if (!shared_vlog() && vlog_->Size() > v_end) IMMUDB_RETURN_IF_ERROR(vlog_->Truncate(v_end));
  // What survived a process crash may sit only in the page cache: make it
  // durable before new commits name it in durable_upto.
  IMMUDB_RETURN_IF_ERROR(SyncAll());

  last_id_ = good;
  durable_id_ = good;
  clog_durable_id_ = good;
  clog_mark_id_ = good;
  clog_mark_bytes_ = txlog_->Size();
  last_alh_ = prev;
  last_ts_ = good_ts;
  last_sync_ = CoarseMonotonicNs();
  std::lock_guard<std::mutex> g(state_mu_);
  committed_alh_ = last_alh_;
  committed_id_.store(good, std::memory_order_release);
  return Status::OK();
}

Status StoreImpl::RecoverFromTxLog(uint64_t durable, uint64_t* good, Hash* prev, int64_t* ts,
                                   uint64_t* tx_end) {
  const uint64_t size = txlog_->Size();
  std::string payload;
  for (;;) {
    const uint64_t id = *good + 1;
    const uint64_t at = *tx_end;
    // Frame, then the record prefix: anything that does not fit is the tail.
    uint8_t frame[kTxValuesFrameSize];
    if (size - at < kTxValuesFrameSize + kTxRecordPrefixSize) break;
    IMMUDB_RETURN_IF_ERROR(txlog_->ReadAt(at, sizeof(frame), reinterpret_cast<char*>(frame)));
    const uint64_t values_len = GetU64BE(frame);
    const uint64_t values_at = at + kTxValuesFrameSize;
    if (values_len > size - values_at - kTxRecordPrefixSize) break;
    const uint64_t rec_at = values_at + values_len;
    uint8_t prefix[kTxRecordPrefixSize];
    IMMUDB_RETURN_IF_ERROR(txlog_->ReadAt(rec_at, sizeof(prefix), reinterpret_cast<char*>(prefix)));
    const uint32_t payload_len = GetU32BE(prefix);
    if (payload_len < kTxHeaderSize || payload_len > size - rec_at - kTxRecordPrefixSize) break;
    payload.resize(payload_len);
    IMMUDB_RETURN_IF_ERROR(
        txlog_->ReadAt(rec_at + kTxRecordPrefixSize, payload_len, payload.data()));
    if (crc32c::Unmask(GetU32BE(prefix + 4)) != crc32c::Value(payload.data(), payload.size()))
      break;
    auto tx = DecodeTxPayload(payload);
    if (!tx.ok()) break;
    const TxHeader& h = tx->header;
    if (h.id != id || h.prev_alh != *prev || h.bl_tx_id != id - 1 || h.ts < *ts) break;
    Hash bl_root = ZeroHash();
    if (id > 1) {
      IMMUDB_ASSIGN_OR_RETURN(bl_root, aht_->RootAt(id - 1));
    }
    if (h.bl_root != bl_root) break;
    // The values fill the frame exactly, in entry order, and hash right.
    uint64_t pos = values_at;
    std::vector<Hash> digests;
    bool entries_ok = true;
    for (const TxEntry& e : tx->entries) {
      auto d = e.Digest(h.version);
      if (e.voff != pos || !d.ok()) {
        entries_ok = false;
        break;
      }
      digests.push_back(*d);
      pos += e.vlen;
    }
    if (!entries_ok || pos != rec_at || HTreeRoot(digests) != h.eh) break;
    Status vs = CheckValues(*tx);
    if (!vs.ok()) {
      if (vs.IsCorruption()) break;
      return vs;
    }
    IMMUDB_ASSIGN_OR_RETURN(Hash inner, h.Inner());
    const Hash alh = AlhFrom(h.id, h.prev_alh, inner);
    IMMUDB_RETURN_IF_ERROR(aht_->Append(alh).status());
    CommitRecord rec;
    rec.tx_id = id;
    rec.durable_upto = durable;
    rec.tx_off = rec_at;
    rec.tx_len = static_cast<uint32_t>(kTxRecordPrefixSize + payload_len);
    rec.vlog_end = rec_at;
    rec.alh = alh;
    uint8_t buf[kCommitRecordSize];
    EncodeCommitRecord(rec, buf);
    IMMUDB_RETURN_IF_ERROR(
        clog_->Append(std::string_view(reinterpret_cast<const char*>(buf), sizeof(buf))).status());
    *good = id;
    *prev = alh;
    *ts = h.ts;
    *tx_end = rec_at + rec.tx_len;
  }
  return Status::OK();
}

// The AHT is derived from the Alh values in the commit log. Its leaves past
// `durable` may be torn like the other logs: cut them, append any durable
// leaves it lacks and the checked tail, then check its last leaf.
Status StoreImpl::RebuildAhtTail(uint64_t durable, const std::vector<Hash>& alhs) {
  if (aht_->Size() > durable) IMMUDB_RETURN_IF_ERROR(aht_->Truncate(durable));
  if (aht_->Size() < durable) {
    notes_.push_back("AHT lacked leaves " + std::to_string(aht_->Size() + 1) + ".." +
                     std::to_string(durable) + "; rebuilt them from the commit log");
  }
  while (aht_->Size() < durable) {
    IMMUDB_ASSIGN_OR_RETURN(CommitRecord rec, LoadCommitRecord(aht_->Size() + 1));
    IMMUDB_RETURN_IF_ERROR(aht_->Append(rec.alh).status());
  }
  for (const Hash& alh : alhs) IMMUDB_RETURN_IF_ERROR(aht_->Append(alh).status());
  const uint64_t n = aht_->Size();
  if (n == 0) return Status::OK();
  IMMUDB_ASSIGN_OR_RETURN(CommitRecord rec, LoadCommitRecord(n));
  IMMUDB_ASSIGN_OR_RETURN(std::vector<Hash> proof, aht_->InclusionProof(n, n));
  IMMUDB_ASSIGN_OR_RETURN(Hash root, aht_->RootAt(n));
  if (!verify::VerifyLastInclusion(proof, n, LeafHash(rec.alh), root)) {
    return Status::Corruption("AHT does not hold the Alh of tx " + std::to_string(n));
  }
  return Status::OK();
}

Status StoreImpl::Close() {
  // Synced stores: no append is under way once closed_ is set (appenders
  // check it under both locks).
  std::unique_lock<std::mutex> a(append_mu_);
  std::unique_lock<std::mutex> l(mu_);
  if (closed_) return Status::OK();
  closed_ = true;
  a.unlock();
  // Let queued and appended commits finish; new ones are refused from here on.
  // A round takes the pending txs into flight (RunRound): pending is read
  // first, so no round falls between the two reads.
  while (RoundPending() || inflight_.load() > 0 || !writers_.empty()) {
    l.unlock();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    l.lock();
  }
  l.unlock();
  {
    // A running truncation finishes first (a new one sees closed_).
    std::lock_guard<std::mutex> tg(trunc_mu_);
  }
  {
    // The commit thread may still be running callbacks of the last batch.
    std::unique_lock<std::mutex> a(async_mu_);
    async_stop_ = true;
    async_cv_.notify_all();
    if (async_thread_.joinable()) {
      std::thread t = std::move(async_thread_);
      a.unlock();
      t.join();
    }
  }
  StopBackgroundSync();
  l.lock();
  Status result;
  auto keep_first = [&result](Status s) {
    if (result.ok() && !s.ok()) result = std::move(s);
  };
  const bool healthy = bg_error_.ok();
  l.unlock();
  // Reads after Close take the appendables' path (the mappings stay until
  // the store is destroyed, for reads already under way).
  map_values_.store(false);
  {
    std::lock_guard<std::mutex> g(state_mu_);
    state_closed_ = true;
  }
  state_cv_.notify_all();
  if (vlog_file_) {
    if (healthy) keep_first(vlog_file_->Sync());
    keep_first(vlog_file_->Close());
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
  // Everything is durable now: record it for the next open (store.md).
  if (healthy && result.ok() && last_id_ > 0) {
    keep_first(
        WriteFileAtomic(fs_, dir_ + "/" + kDurableFile, EncodeDurableMark(last_id_, last_alh_)));
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
