// Opening, rebuilding and closing the index.
#include <pthread.h>
#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>

#include <algorithm>
#include <filesystem>

#include "index/index_format.h"
#include "index/index_impl.h"
#include "index/memtable_rep.h"
#include "util/coding.h"

namespace immudb::index {

Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::OK();
  std::string msg = std::string(what) + ": " + s.ToString();
  if (s.IsNotFound()) return Status::NotFound(msg);
  if (s.IsCorruption()) return Status::Corruption(msg);
  if (s.IsInvalidArgument()) return Status::InvalidArgument(msg);
  return Status::IOError(msg);
}

Status IndexDb::FlushAll(const rocksdb::FlushOptions& fo) const {
  std::vector<rocksdb::ColumnFamilyHandle*> all;
  for (const auto& family : families) all.push_back(family.get());
  return FromRocks(db->Flush(fo, all), "flush index");
}

Status IndexDb::Close() {
  if (db == nullptr || families.empty()) return Status::OK();
  // RocksDB requires the handles released before the close.
  families.clear();
  return FromRocks(db->Close(), "close index");
}

IndexDb::~IndexDb() {
  Status ignored = Close();
  (void)ignored;
}

namespace {

// Data blocks of the index's SSTs (RocksDB's default size).
constexpr size_t kDataBlockBytes = 4096;
// The meta family's memtable: a marker (about 60 bytes of memtable) per
// batch, so it fills only after tens of thousands of batches; a flush it
// triggers flushes the other families too (atomic_flush).
constexpr size_t kMetaWriteBufferBytes = 4 << 20;

// RocksDB settings; docs/format/index.md (memory) explains the bound. The
// database-wide ones, and the defaults of the column families
// (ColumnFamilies).
rocksdb::Options DbOptions(const IndexOptions& opts) {
  rocksdb::Options o;
  if (opts.env != nullptr) o.env = opts.env;
  o.create_if_missing = true;
  // An index of an older format (one column family) opens, and is then
  // rebuilt for its format marker.
  o.create_missing_column_families = true;
  // The index writes no WAL: its column families must be flushed together,
  // so that the files hold the records of a prefix of the batches in every
  // family and the marker that goes with it (docs/format/index.md).
  o.atomic_flush = true;
  o.paranoid_checks = true;
  o.keep_log_file_num = 2;
  o.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  // RocksDB's periodic statistics dump (every 10 minutes by default) walks
  // the whole block cache for a report that goes to the info log at INFO
  // level, which this level drops; nothing else reads it.
  o.stats_dump_period_sec = 0;
  o.stats_persist_period_sec = 0;
  o.write_buffer_size = std::max<size_t>(opts.write_buffer_bytes, 64 << 10);
  o.max_write_buffer_number = static_cast<int>(kIndexMemTables);
  // Records hold hashes and offsets: compression would cost CPU for little.
  o.compression = rocksdb::kNoCompression;
  // A memtable bloom filter answers the indexer's lookups of new keys
  // without searching the skiplist. The index's own memtable (memtable_rep.h,
  // ApplyWriteSideOptions) turns it off and keeps its own filter.
  o.memtable_prefix_bloom_size_ratio = 0.02;
  o.memtable_whole_key_filtering = true;
  // One writer, the indexer: the index's own skip list takes no concurrent
  // inserts (ApplyWriteSideOptions).
  o.allow_concurrent_memtable_write = false;
  rocksdb::BlockBasedTableOptions t;
  t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  t.whole_key_filtering = true;
  // A clock cache: lookups take no shard mutex and keep no LRU list, which
  // random Gets paid for on every hit. Its table is sized for entries of
  // about one data block and for the most the cache may be raised to
  // (Index::SetBlockCacheBytes); it starts at block_cache_bytes.
  const size_t cache_bytes = std::max<size_t>(opts.block_cache_bytes, 1 << 20);
  rocksdb::HyperClockCacheOptions cache(std::max(cache_bytes, opts.block_cache_max_bytes),
                                        kDataBlockBytes);
  t.block_cache = cache.MakeSharedCache();
  t.block_cache->SetCapacity(cache_bytes);
  t.block_size = kDataBlockBytes;
  // Point lookups: a hash index in each data block finds the restart point,
  // and short restart intervals keep the scan from it short.
  t.data_block_index_type = rocksdb::BlockBasedTableOptions::kDataBlockBinaryAndHash;
  t.block_restart_interval = 4;
  t.format_version = 5;
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  return o;
}

// The column families, in the order of Rep::families: the meta keys in
// "default", the 'H' and the 'L' records each in their own. Apart, each
// family's flushes cover a narrow key range: records of keys written in
// about ascending order make files that overlap few others, so compactions
// rewrite little, where in one family every flushed file spanned from the
// 'H' to the 'M' keys and each L0 compaction rewrote all the 'L' records of
// the next level. The 'H' and 'L' families share the memtable budget (half
// of write_buffer_bytes each, each with its own pool of memtable memory);
// the meta family keeps RocksDB's skip list and a small buffer (a marker
// per batch).
std::vector<rocksdb::ColumnFamilyDescriptor> ColumnFamilies(const IndexOptions& opts) {
  const rocksdb::Options base = DbOptions(opts);
  rocksdb::ColumnFamilyOptions meta(base);
  meta.write_buffer_size = kMetaWriteBufferBytes;
  const size_t half = std::max<size_t>(opts.write_buffer_bytes / 2, 64 << 10);
  rocksdb::ColumnFamilyOptions history(base);
  history.write_buffer_size = half;
  ApplyWriteSideOptions(opts, &history);
  rocksdb::ColumnFamilyOptions latest(base);
  latest.write_buffer_size = half;
  ApplyWriteSideOptions(opts, &latest);
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  families.emplace_back(rocksdb::kDefaultColumnFamilyName, meta);
  families.emplace_back(std::string(kHistoryFamily), history);
  families.emplace_back(std::string(kLatestFamily), latest);
  return families;
}

// The file system the index is kept through (IndexOptions::env).
rocksdb::FileSystem* IndexFs(const IndexOptions& opts) {
  rocksdb::Env* env = opts.env != nullptr ? opts.env : rocksdb::Env::Default();
  return env->GetFileSystem().get();
}

// RocksDB starts a new write-ahead log at every open and deletes the old
// ones only after a flush, so opens that write nothing (the index's writes
// skip the log anyway) would each leave an empty "<number>.log" file behind.
// Empty ones hold no records to replay: they are removed before the open.
void RemoveEmptyWalFiles(const std::string& dir, const IndexOptions& opts) {
  rocksdb::FileSystem* fs = IndexFs(opts);
  const rocksdb::IOOptions io;
  std::vector<std::string> names;
  if (!fs->GetChildren(dir, io, &names, nullptr).ok()) return;
  for (const std::string& name : names) {
    if (name.size() <= 4 || name.compare(name.size() - 4, 4, ".log") != 0) continue;
    if (!std::all_of(name.begin(), name.end() - 4, [](char c) { return c >= '0' && c <= '9'; })) {
      continue;
    }
    const std::string path = dir + "/" + name;
    bool is_dir = true;
    uint64_t size = 1;
    if (fs->IsDirectory(path, io, &is_dir, nullptr).ok() && !is_dir &&
        fs->GetFileSize(path, io, &size, nullptr).ok() && size == 0) {
      rocksdb::IOStatus ignored = fs->DeleteFile(path, io, nullptr);
      (void)ignored;
    }
  }
}

Result<std::unique_ptr<IndexDb>> OpenDb(const std::string& dir, const IndexOptions& opts) {
  RemoveEmptyWalFiles(dir, opts);
  rocksdb::DB* raw = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::Status s = rocksdb::DB::Open(DbOptions(opts), dir, ColumnFamilies(opts), &handles, &raw);
  if (!s.ok()) return FromRocks(s, "open index " + dir);
  auto db = std::make_unique<IndexDb>();
  db->db.reset(raw);
  for (rocksdb::ColumnFamilyHandle* h : handles) db->families.emplace_back(h);
  return db;
}

bool IsEmpty(const IndexDb& db) {
  for (const auto& family : db.families) {
    std::unique_ptr<rocksdb::Iterator> it(db.db->NewIterator(rocksdb::ReadOptions(), family.get()));
    it->SeekToFirst();
    if (it->Valid() || !it->status().ok()) return false;
  }
  return true;
}

// Returns the tx the index covers, or an error when the index must be
// rebuilt: unknown format, bad marker, ahead of the store, failed checksums.
Result<uint64_t> CheckDb(const IndexDb& idb, uint64_t store_last, const IndexOptions& opts) {
  rocksdb::DB* db = idb.db.get();
  std::string v;
  rocksdb::Status s =
      db->Get(rocksdb::ReadOptions(), rocksdb::Slice(kFormatKey.data(), kFormatKey.size()), &v);
  if (s.IsNotFound()) {
    if (!IsEmpty(idb)) return Status::Corruption("index has data but no format marker");
    rocksdb::WriteBatch b;
    std::string zero;
    AppendU64BE(&zero, 0);
    b.Put(rocksdb::Slice(kFormatKey.data(), kFormatKey.size()),
          rocksdb::Slice(kFormatValue.data(), kFormatValue.size()));
    b.Put(rocksdb::Slice(kIndexedUpToKey.data(), kIndexedUpToKey.size()), zero);
    // Without the WAL, and made durable by a flush, like every later batch:
    // a database whose WAL has a record opens a new WAL file at its next
    // memtable switch, and when that fails (an I/O error, a full disk)
    // during a switch for an automatic atomic flush, RocksDB 7.8 keeps a
    // reference to the column families it had not switched yet and aborts
    // on close (fixed in RocksDB 8.10, facebook/rocksdb#12176). With no WAL
    // record ever written, a memtable switch does no I/O and cannot fail.
    rocksdb::WriteOptions wo;
    wo.disableWAL = true;
    IMMUDB_RETURN_IF_ERROR(FromRocks(db->Write(wo, &b), "init index"));
    rocksdb::FlushOptions fo;
    fo.wait = true;
    IMMUDB_RETURN_IF_ERROR(idb.FlushAll(fo));
    return uint64_t{0};
  }
  IMMUDB_RETURN_IF_ERROR(FromRocks(s, "read index format"));
  if (v != kFormatValue) return Status::Corruption("unknown index format '" + v + "'");
  s = db->Get(rocksdb::ReadOptions(),
              rocksdb::Slice(kIndexedUpToKey.data(), kIndexedUpToKey.size()), &v);
  IMMUDB_RETURN_IF_ERROR(FromRocks(s, "read indexed-up-to marker"));
  if (v.size() != 8) return Status::Corruption("bad indexed-up-to marker");
  const uint64_t upto = GetU64BE(reinterpret_cast<const uint8_t*>(v.data()));
  if (upto > store_last) {
    return Status::Corruption("index is ahead of the store (tx " + std::to_string(upto) + " > " +
                              std::to_string(store_last) + ")");
  }
  if (opts.verify_checksums_on_open) {
    IMMUDB_RETURN_IF_ERROR(FromRocks(db->VerifyChecksum(), "verify index checksums"));
  }
  return upto;
}

// The greatest stored key with a latest record ('L'), or "" when there is
// none.
Result<std::string> GreatestLatestKey(const IndexDb& db) {
  std::unique_ptr<rocksdb::Iterator> it(db.db->NewIterator(rocksdb::ReadOptions(), db.latest()));
  it->SeekToLast();
  std::string key;
  if (it->Valid() && it->key().size() > 1 && it->key()[0] == kLatestTag) {
    key.assign(it->key().data() + 1, it->key().size() - 1);
  }
  IMMUDB_RETURN_IF_ERROR(FromRocks(it->status(), "read index"));
  return key;
}

Status DestroyDir(const std::string& dir, const IndexOptions& opts) {
  // DestroyDB removes RocksDB's own files, then the index's file system
  // every other file it lists; remove_all takes whatever else a damaged
  // directory holds (subdirectories).
  rocksdb::Status ignored = rocksdb::DestroyDB(dir, DbOptions(opts), ColumnFamilies(opts));
  (void)ignored;
  rocksdb::FileSystem* fs = IndexFs(opts);
  const rocksdb::IOOptions io;
  std::vector<std::string> names;
  if (fs->GetChildren(dir, io, &names, nullptr).ok()) {
    for (const std::string& name : names) {
      bool is_dir = true;
      const std::string path = dir + "/" + name;
      if (fs->IsDirectory(path, io, &is_dir, nullptr).ok() && !is_dir) {
        rocksdb::IOStatus gone = fs->DeleteFile(path, io, nullptr);
        (void)gone;
      }
    }
    rocksdb::IOStatus gone = fs->DeleteDir(dir, io, nullptr);
    (void)gone;
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (ec) return Status::IOError("remove index " + dir + ": " + ec.message());
  return Status::OK();
}

}  // namespace

Index::Index(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}

Index::~Index() {
  Status ignored = Close();
  (void)ignored;
}

Result<std::unique_ptr<Index>> Index::Open(const std::string& dir, const Store* store,
                                           const IndexOptions& opts) {
  auto rep = std::make_unique<Rep>();
  rep->dir = dir;
  rep->store = store;
  rep->opts = opts;
  if (rep->opts.max_batch_txs == 0) rep->opts.max_batch_txs = 1;
  rep->revisions = RevisionCache(rep->opts.revision_cache_entries);
  const uint64_t store_last = store->CurrentState().tx_id;

  bool rebuilt = false;
  uint64_t upto = 0;
  auto db = OpenDb(dir, rep->opts);
  Status bad = db.status();
  if (db.ok()) {
    auto checked = CheckDb(**db, store_last, opts);
    bad = checked.status();
    if (checked.ok()) upto = *checked;
  }
  if (!bad.ok()) {
    // Derived data: start over from the log rather than refuse to open.
    if (db.ok()) {
      Status ignored = db.value()->Close();
      (void)ignored;
      db.value().reset();
    }
    IMMUDB_RETURN_IF_ERROR(DestroyDir(dir, rep->opts));
    db = OpenDb(dir, rep->opts);
    if (!db.ok()) return db.status();
    IMMUDB_ASSIGN_OR_RETURN(upto, CheckDb(**db, store_last, opts));
    rebuilt = true;
  }
  rep->idb = std::move(db).value();
  rep->db = rep->idb->db.get();
  rep->meta_cf = rep->idb->meta();
  rep->history_cf = rep->idb->history();
  rep->latest_cf = rep->idb->latest();
  IMMUDB_ASSIGN_OR_RETURN(rep->latest_bound, GreatestLatestKey(*rep->idb));
  rep->indexed_upto.store(upto);
  // The txs the indexer has yet to read stay in the store's memory (up to a
  // bound) rather than be read back from the log.
  store->KeepRecentTxsAfter(upto);
  Rep* r = rep.get();
  rep->indexer = std::thread([r] { r->Run(); });
  // Named for profilers and top; failure only loses the name.
  pthread_setname_np(rep->indexer.native_handle(), "immudb-index");
  std::unique_ptr<Index> index(new Index(std::move(rep)));
  index->rebuilt_ = rebuilt;
  return index;
}

Status Index::Close() {
  Rep* r = rep_.get();
  if (r == nullptr) return Status::OK();
  {
    std::lock_guard<std::mutex> l(r->mu);
    if (r->closed) return Status::OK();
  }
  {
    // Under mu: the indexer checks stop under mu before it rests.
    std::lock_guard<std::mutex> l(r->mu);
    r->stop.store(true);
  }
  r->rest_cv.notify_all();
  if (r->indexer.joinable()) r->indexer.join();
  // A waiter may be indexing (WaitFor): it checks stop under batch_mu.
  std::lock_guard<std::mutex> g(r->batch_mu);
  r->store->KeepRecentTxsAfter(UINT64_MAX);  // No reader follows the log now.
  // Flushing makes the next open read SST files instead of replaying the WAL.
  Status st = r->idb->FlushAll(rocksdb::FlushOptions());
  Status cs = r->idb->Close();
  if (st.ok()) st = cs;
  {
    std::lock_guard<std::mutex> l(r->mu);
    r->closed = true;
  }
  r->cv.notify_all();
  r->RunWhenIndexed();
  return st;
}

uint64_t Index::IndexedUpTo() const { return rep_->indexed_upto.load(); }

Status Index::WaitFor(uint64_t tx, uint64_t timeout_ms) const {
  Rep* r = rep_.get();
  // Readers of an index that has caught up take no lock.
  if (r->indexed_upto.load() >= tx) return Status::OK();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  // A committed tx the indexer has not reached yet: index it here when no
  // one else is indexing, rather than wait for the indexer to be woken.
  while (r->indexed_upto.load() < tx && r->store->CurrentState().tx_id >= tx &&
         std::chrono::steady_clock::now() < deadline) {
    std::unique_lock<std::mutex> g(r->batch_mu, std::try_to_lock);
    if (!g.owns_lock()) break;
    {
      std::lock_guard<std::mutex> l(r->mu);
      if (!r->error.ok() || r->closed) break;
    }
    if (r->stop.load()) break;
    auto did = r->IndexSomeForWaiter();
    if (!did.ok()) return did.status();
    if (!*did) break;
  }
  std::unique_lock<std::mutex> l(r->mu);
  const bool done = r->cv.wait_until(
      l, deadline, [&] { return r->indexed_upto.load() >= tx || !r->error.ok() || r->closed; });
  if (r->indexed_upto.load() >= tx) return Status::OK();
  if (!r->error.ok()) return r->error;
  if (r->closed) return Status::FailedPrecondition("index is closed");
  (void)done;
  return Status::DeadlineExceeded("index has not reached tx " + std::to_string(tx));
}

void Index::WhenIndexed(uint64_t tx, std::function<void(Status)> done) const {
  Rep* r = rep_.get();
  if (r->indexed_upto.load() >= tx) {
    done(Status::OK());
    return;
  }
  // As WaitFor: index the committed txs here when no one else is indexing.
  while (r->indexed_upto.load() < tx && !r->stop.load()) {
    std::unique_lock<std::mutex> g(r->batch_mu, std::try_to_lock);
    if (!g.owns_lock()) break;  // The one indexing runs `done`.
    {
      std::lock_guard<std::mutex> l(r->mu);
      if (!r->error.ok() || r->closed) break;
    }
    if (r->stop.load()) break;
    auto did = r->IndexSomeForWaiter();
    if (!did.ok() || !*did) break;  // A failure ran the queued callbacks; ours follows.
  }
  Status now;
  {
    std::lock_guard<std::mutex> l(r->mu);
    if (r->indexed_upto.load() >= tx) {
      now = Status::OK();
    } else if (!r->error.ok()) {
      now = r->error;
    } else if (r->closed) {
      now = Status::FailedPrecondition("index is closed");
    } else {
      r->when_indexed.emplace(tx, std::move(done));
      return;
    }
  }
  done(now);
}

Status Index::Flush() {
  Rep* r = rep_.get();
  std::lock_guard<std::mutex> g(r->batch_mu);  // Not while closing.
  if (r->stop.load()) return Status::FailedPrecondition("index is closed");
  rocksdb::FlushOptions fo;
  fo.wait = true;
  return r->idb->FlushAll(fo);  // RocksDB syncs the files it writes.
}

Status Index::Compact() {
  Rep* r = rep_.get();
  IMMUDB_RETURN_IF_ERROR(Flush());
  std::lock_guard<std::mutex> g(r->batch_mu);
  if (r->stop.load()) return Status::FailedPrecondition("index is closed");
  rocksdb::CompactRangeOptions co;
  for (const auto& family : r->idb->families) {
    IMMUDB_RETURN_IF_ERROR(
        FromRocks(r->db->CompactRange(co, family.get(), nullptr, nullptr), "compact index"));
  }
  return Status::OK();
}

}  // namespace immudb::index
