// Index queries. Multi-step reads use one RocksDB snapshot so they see a
// single committed index batch.
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/perf_context.h>
#include <rocksdb/perf_level.h>
#include <rocksdb/table.h>

#include "index/index_format.h"
#include "index/index_impl.h"
#include "util/op_phases.h"

namespace immudb::index {

namespace {

// A RocksDB snapshot released when the scope ends.
class Snapshot {
 public:
  explicit Snapshot(rocksdb::DB* db) : db_(db), snap_(db->GetSnapshot()) { ro_.snapshot = snap_; }
  ~Snapshot() { db_->ReleaseSnapshot(snap_); }
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;
  const rocksdb::ReadOptions& ro() const { return ro_; }

 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snap_;
  rocksdb::ReadOptions ro_;
};

Result<IndexedEntry> ReadRecord(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family,
                                const rocksdb::ReadOptions& ro, std::string_view key,
                                const std::string& db_key) {
  // A pinned value points into the block cache or memtable: no copy.
  rocksdb::PinnableSlice v;
  // With a phase sink (a latency breakdown), RocksDB's counters of this
  // thread say how many blocks the lookup read and found cached.
  OpPhaseTimes* sink = CurrentOpPhaseSink();
  rocksdb::PerfLevel level = rocksdb::PerfLevel::kDisable;
  uint64_t reads0 = 0, hits0 = 0;
  if (sink != nullptr) {
    level = rocksdb::GetPerfLevel();
    rocksdb::SetPerfLevel(rocksdb::PerfLevel::kEnableCount);
    reads0 = rocksdb::get_perf_context()->block_read_count;
    hits0 = rocksdb::get_perf_context()->block_cache_hit_count;
  }
  rocksdb::Status s = db->Get(ro, family, db_key, &v);
  if (sink != nullptr) {
    sink->index_block_reads +=
        static_cast<uint32_t>(rocksdb::get_perf_context()->block_read_count - reads0);
    sink->index_cache_hits +=
        static_cast<uint32_t>(rocksdb::get_perf_context()->block_cache_hit_count - hits0);
    rocksdb::SetPerfLevel(level);
  }
  if (s.IsNotFound()) return Status::NotFound("key not found");
  IMMUDB_RETURN_IF_ERROR(FromRocks(s, "index read"));
  IndexedEntry e;
  IMMUDB_RETURN_IF_ERROR(DecodeRecord(key, std::string_view(v.data(), v.size()), &e));
  return e;
}

// A latest record as the history record of its revision: without the
// inline value ('H' records never carry one, and readers of history read
// the value from the log).
IndexedEntry AsHistoryRecord(IndexedEntry e) {
  e.value_inline = false;
  e.value.clear();
  return e;
}

// The smallest string greater than every string starting with `p`; "" when
// none exists (p is all 0xff).
std::string Successor(std::string p) {
  while (!p.empty()) {
    auto& c = reinterpret_cast<uint8_t&>(p.back());
    if (c != 0xff) {
      c++;
      return p;
    }
    p.pop_back();
  }
  return p;
}

bool StartsWith(const rocksdb::Slice& s, const std::string& p) {
  return s.size() >= p.size() && memcmp(s.data(), p.data(), p.size()) == 0;
}

// The index's block cache (index_open.cc always sets one).
std::shared_ptr<rocksdb::Cache> BlockCache(rocksdb::DB* db) {
  const auto* t = db->GetOptions().table_factory->GetOptions<rocksdb::BlockBasedTableOptions>();
  return t != nullptr ? t->block_cache : nullptr;
}

}  // namespace

uint64_t Index::LatestRecordsBytes() const {
  // Every key of the family is an 'L' record.
  const char lo[1] = {kLatestTag};
  const char hi[1] = {static_cast<char>(kLatestTag + 1)};
  const rocksdb::Range r(rocksdb::Slice(lo, 1), rocksdb::Slice(hi, 1));
  rocksdb::SizeApproximationOptions o;
  o.include_files = true;
  o.include_memtables = false;
  uint64_t bytes = 0;
  rocksdb::DB* db = rep_->db;
  if (!db->GetApproximateSizes(o, rep_->latest_cf, &r, 1, &bytes).ok()) return 0;
  return bytes;
}

size_t Index::BlockCacheBytes() const {
  auto c = BlockCache(rep_->db);
  return c ? c->GetCapacity() : 0;
}

void Index::SetBlockCacheBytes(size_t bytes) {
  if (auto c = BlockCache(rep_->db)) c->SetCapacity(bytes);
}

Result<IndexedEntry> Index::Get(std::string_view key) const {
  return ReadRecord(rep_->db, rep_->latest_cf, rocksdb::ReadOptions(), key, LatestKey(key));
}

Result<IndexedEntry> Index::GetRevision(std::string_view key, uint64_t revision) const {
  if (revision == 0) return Status::NotFound("key not found");
  if (revision > 1) {
    return ReadRecord(rep_->db, rep_->history_cf, rocksdb::ReadOptions(), key,
                      HistoryKey(key, revision));
  }
  // A key's first version has an 'H' record once the key has a second;
  // until then it is the 'L' record. Both reads see one index batch.
  rocksdb::DB* db = rep_->db;
  Snapshot snap(db);
  auto h = ReadRecord(db, rep_->history_cf, snap.ro(), key, HistoryKey(key, 1));
  if (!h.status().IsNotFound()) return h;
  IMMUDB_ASSIGN_OR_RETURN(IndexedEntry latest,
                          ReadRecord(db, rep_->latest_cf, snap.ro(), key, LatestKey(key)));
  if (latest.revision != 1) {
    return Status::Corruption("index history of a key misses revision 1");
  }
  return AsHistoryRecord(std::move(latest));
}

Result<IndexedEntry> Index::GetAsOf(std::string_view key, uint64_t tx) const {
  rocksdb::DB* db = rep_->db;
  Snapshot snap(db);
  IMMUDB_ASSIGN_OR_RETURN(IndexedEntry latest,
                          ReadRecord(db, rep_->latest_cf, snap.ro(), key, LatestKey(key)));
  if (latest.tx <= tx) return latest;
  // Revisions grow with tx ids: binary search for the last one at or before tx.
  uint64_t lo = 1, hi = latest.revision - 1;
  std::optional<IndexedEntry> best;
  while (lo <= hi) {
    const uint64_t mid = lo + (hi - lo) / 2;
    IMMUDB_ASSIGN_OR_RETURN(IndexedEntry e,
                            ReadRecord(db, rep_->history_cf, snap.ro(), key, HistoryKey(key, mid)));
    if (e.tx <= tx) {
      best = std::move(e);
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  if (!best) return Status::NotFound("key not found");
  return std::move(*best);
}

Result<std::vector<IndexedEntry>> Index::History(std::string_view key, uint64_t offset,
                                                 uint64_t limit, bool desc) const {
  rocksdb::DB* db = rep_->db;
  Snapshot snap(db);
  auto latest = ReadRecord(db, rep_->latest_cf, snap.ro(), key, LatestKey(key));
  if (!latest.ok()) return latest.status();
  const uint64_t n = latest->revision;
  std::vector<IndexedEntry> out;
  if (offset >= n) return out;
  const uint64_t count = std::min(limit, n - offset);
  out.reserve(count);
  if (count == 0) return out;
  if (n == 1) {
    // The key's only version: its 'L' record (no 'H' record yet).
    out.push_back(AsHistoryRecord(std::move(latest).value()));
    return out;
  }
  // The key's history records are contiguous and ordered by revision: one
  // seek, then one step per version.
  const uint64_t first = desc ? n - offset : offset + 1;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(snap.ro(), rep_->history_cf));
  it->Seek(HistoryKey(key, first));
  for (uint64_t i = 0; i < count; i++) {
    const uint64_t rev = desc ? first - i : first + i;
    if (!it->Valid() || it->key() != rocksdb::Slice(HistoryKey(key, rev))) {
      IMMUDB_RETURN_IF_ERROR(FromRocks(it->status(), "index history"));
      return Status::Corruption("index history of a key misses revision " + std::to_string(rev));
    }
    IndexedEntry e;
    IMMUDB_RETURN_IF_ERROR(
        DecodeRecord(key, std::string_view(it->value().data(), it->value().size()), &e));
    out.push_back(std::move(e));
    if (desc) {
      it->Prev();
    } else {
      it->Next();
    }
  }
  return out;
}

Status Index::Scan(const ScanSpec& spec,
                   const std::function<bool(const IndexedEntry&)>& visit) const {
  const std::string prefix = LatestKey(spec.prefix);
  const std::string seek = spec.seek_key.empty() ? "" : LatestKey(spec.seek_key);
  const std::string end = spec.end_key.empty() ? "" : LatestKey(spec.end_key);
  std::unique_ptr<rocksdb::Iterator> it(
      rep_->db->NewIterator(rocksdb::ReadOptions(), rep_->latest_cf));
  if (!spec.desc) {
    it->Seek(!seek.empty() && seek > prefix ? seek : prefix);
  } else {
    const std::string hi = Successor(prefix);  // Never empty: prefix starts with 'L'.
    if (!seek.empty() && seek < hi) {
      it->SeekForPrev(seek);
    } else {
      it->SeekForPrev(hi);
      if (it->Valid() && it->key() == rocksdb::Slice(hi)) it->Prev();
    }
  }
  for (; it->Valid(); spec.desc ? it->Prev() : it->Next()) {
    const rocksdb::Slice k = it->key();
    if (!StartsWith(k, prefix)) break;
    if (!seek.empty() && !spec.inclusive_seek && k == rocksdb::Slice(seek)) continue;
    if (!end.empty()) {
      const int c = k.compare(end);
      if (spec.desc ? (c < 0 || (c == 0 && !spec.inclusive_end))
                    : (c > 0 || (c == 0 && !spec.inclusive_end))) {
        break;
      }
    }
    IndexedEntry e;
    IMMUDB_RETURN_IF_ERROR(DecodeRecord(std::string_view(k.data() + 1, k.size() - 1),
                                        std::string_view(it->value().data(), it->value().size()),
                                        &e));
    if (!visit(e)) return Status::OK();
  }
  return FromRocks(it->status(), "index scan");
}

Result<uint64_t> Index::Count(std::string_view prefix) const {
  const std::string p = LatestKey(prefix);
  std::unique_ptr<rocksdb::Iterator> it(
      rep_->db->NewIterator(rocksdb::ReadOptions(), rep_->latest_cf));
  uint64_t n = 0;
  for (it->Seek(p); it->Valid() && StartsWith(it->key(), p); it->Next()) n++;
  IMMUDB_RETURN_IF_ERROR(FromRocks(it->status(), "index count"));
  return n;
}

}  // namespace immudb::index
