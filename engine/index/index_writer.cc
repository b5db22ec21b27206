// The indexer thread: turns committed transactions into index records.
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <unordered_map>

#include "index/index_format.h"
#include "index/index_impl.h"
#include "util/coding.h"

namespace immudb::index {

namespace {
// How long the indexer sleeps in Store::WaitForTx before checking for stop.
constexpr uint64_t kPollMs = 50;
}  // namespace

void Index::Rep::SetError(const Status& s) {
  {
    std::lock_guard<std::mutex> l(mu);
    error = s;
  }
  cv.notify_all();
  RunWhenIndexed();
}

void Index::Rep::RunWhenIndexed() {
  std::vector<std::pair<std::function<void(Status)>, Status>> ready;
  {
    std::lock_guard<std::mutex> l(mu);
    if (when_indexed.empty()) return;
    Status all;
    if (!error.ok()) {
      all = error;
    } else if (closed) {
      all = Status::FailedPrecondition("index is closed");
    }
    auto end = all.ok() ? when_indexed.upper_bound(indexed_upto.load()) : when_indexed.end();
    for (auto it = when_indexed.begin(); it != end; ++it)
      ready.emplace_back(std::move(it->second), all);
    when_indexed.erase(when_indexed.begin(), end);
  }
  for (auto& [done, st] : ready) done(st);
}

Result<bool> Index::Rep::IndexSome() {
  const uint64_t next = indexed_upto.load() + 1;
  const uint64_t last = store->CurrentState().tx_id;
  if (last < next) return false;
  Status s = IndexBatch(next, last);
  if (!s.ok()) {
    s = s.WithPrefix("indexing tx " + std::to_string(next));
    SetError(s);
    return s;
  }
  return true;
}

void Index::Rep::Run() {
  while (!stop.load()) {
    {
      std::lock_guard<std::mutex> g(batch_mu);
      {
        std::lock_guard<std::mutex> l(mu);
        if (!error.ok()) return;  // A waiter failed to index.
      }
      auto did = IndexSome();
      if (!did.ok()) return;
      if (*did) continue;
    }
    const uint64_t next = indexed_upto.load() + 1;
    Status w = store->WaitForTx(next, kPollMs);
    if (!w.ok() && w.code() != StatusCode::kDeadlineExceeded) {
      // The store is closed: waiters get the reason instead of a timeout.
      SetError(w.WithPrefix("index"));
      return;
    }
  }
}

Status Index::Rep::ReadTxs(uint64_t from, uint64_t last, std::vector<Tx>* txs) {
  // Whole chunks from the store (recent ones straight from memory), until
  // the batch has enough txs or entries.
  constexpr size_t kChunk = 64;
  size_t entries = 0;
  uint64_t id = from;
  while (id <= last && txs->size() < opts.max_batch_txs && entries < opts.max_batch_entries) {
    const size_t before = txs->size();
    const size_t want = std::min<uint64_t>({kChunk, opts.max_batch_txs - before, last - id + 1});
    IMMUDB_RETURN_IF_ERROR(store->ReadTxsFollowing(id, want, txs));
    if (txs->size() == before) break;
    for (size_t i = before; i < txs->size(); i++) entries += (*txs)[i].entries.size();
    id += txs->size() - before;
  }
  return Status::OK();
}

Status Index::Rep::LatestRevisions(const std::vector<Tx>& txs,
                                   std::unordered_map<std::string_view, uint64_t>* revs) {
  // Keys neither cached nor already seen in this batch, read with one MultiGet.
  std::vector<std::string_view> missing;
  for (const Tx& tx : txs) {
    for (const TxEntry& e : tx.entries) {
      if (e.md.non_indexable || revs->contains(e.key)) continue;
      if (auto rev = revisions.Lookup(e.key)) {
        revs->emplace(e.key, *rev);
      } else {
        revs->emplace(e.key, 0);
        missing.push_back(e.key);
      }
    }
  }
  if (missing.empty()) return Status::OK();
  std::sort(missing.begin(), missing.end());
  std::vector<std::string> db_keys(missing.size());
  std::vector<rocksdb::Slice> slices(missing.size());
  for (size_t i = 0; i < missing.size(); i++) {
    LatestKeyTo(missing[i], &db_keys[i]);
    slices[i] = db_keys[i];
  }
  std::vector<rocksdb::PinnableSlice> values(missing.size());
  std::vector<rocksdb::Status> statuses(missing.size());
  db->MultiGet(rocksdb::ReadOptions(), db->DefaultColumnFamily(), slices.size(), slices.data(),
               values.data(), statuses.data(), /*sorted_input=*/true);
  for (size_t i = 0; i < missing.size(); i++) {
    if (statuses[i].IsNotFound()) continue;
    IMMUDB_RETURN_IF_ERROR(FromRocks(statuses[i], "index read"));
    IMMUDB_ASSIGN_OR_RETURN(uint64_t rev,
                            DecodeRevision(std::string_view(values[i].data(), values[i].size())));
    (*revs)[missing[i]] = rev;
  }
  return Status::OK();
}

Status Index::Rep::IndexBatch(uint64_t from, uint64_t last) {
  std::vector<Tx> txs;
  IMMUDB_RETURN_IF_ERROR(ReadTxs(from, last, &txs));
  // Latest revision of every key of the batch, advanced as entries are added.
  std::unordered_map<std::string_view, uint64_t> revs;
  IMMUDB_RETURN_IF_ERROR(LatestRevisions(txs, &revs));

  // Records go into the memtable sorted, so each insert starts its skiplist
  // search at the one before; a key written twice in the batch gets one
  // latest record, its last version.
  struct Record {
    std::string db_key;
    std::string value;
  };
  std::vector<Record> history;
  std::unordered_map<std::string_view, size_t> latest;  // Key -> its last history record.
  IndexedEntry rec;
  for (Tx& tx : txs) {
    for (size_t i = 0; i < tx.entries.size(); i++) {
      const TxEntry& e = tx.entries[i];
      if (e.md.non_indexable) continue;
      uint64_t& rev = revs[e.key];
      rev++;
      rec.tx = tx.header.id;
      rec.index = static_cast<uint32_t>(i);
      rec.revision = rev;
      rec.entry.md = e.md;
      rec.entry.hval = e.hval;
      rec.entry.vlen = e.vlen;
      rec.entry.voff = e.voff;
      Record& r = history.emplace_back();
      EncodeRecordTo(rec, &r.value);
      HistoryKeyTo(e.key, rev, &r.db_key);
      latest[e.key] = history.size() - 1;
    }
  }
  std::vector<size_t> order(history.size());
  for (size_t i = 0; i < order.size(); i++) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return history[a].db_key < history[b].db_key; });
  std::vector<std::pair<std::string_view, size_t>> latest_sorted(latest.begin(), latest.end());
  std::sort(latest_sorted.begin(), latest_sorted.end());
  rocksdb::WriteBatch batch;
  for (size_t i : order) batch.Put(history[i].db_key, history[i].value);
  std::string latest_key;
  for (const auto& [key, i] : latest_sorted) {
    LatestKeyTo(key, &latest_key);
    batch.Put(latest_key, history[i].value);
  }
  const uint64_t to = txs.back().header.id;
  std::string upto;
  AppendU64BE(&upto, to);
  batch.Put(rocksdb::Slice(kIndexedUpToKey.data(), kIndexedUpToKey.size()), upto);
  rocksdb::WriteOptions wo;
  wo.disableWAL = opts.disable_wal;
  IMMUDB_RETURN_IF_ERROR(FromRocks(db->Write(wo, &batch), "index write"));
  // Only now does RocksDB hold these revisions.
  for (const auto& [key, rev] : revs) revisions.Insert(key, rev);
  {
    std::lock_guard<std::mutex> l(mu);
    indexed_upto.store(to);
  }
  cv.notify_all();
  RunWhenIndexed();
  return Status::OK();
}

}  // namespace immudb::index
