// The indexer thread: turns committed transactions into index records.
#include <rocksdb/write_batch.h>

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
}

void Index::Rep::Run() {
  while (!stop.load()) {
    const uint64_t next = indexed_upto.load() + 1;
    const uint64_t last = store->CurrentState().tx_id;
    if (last >= next) {
      const uint64_t to = std::min<uint64_t>(last, next + opts.max_batch_txs - 1);
      Status s = IndexBatch(next, to);
      if (!s.ok()) {
        SetError(s.WithPrefix("indexing tx " + std::to_string(next)));
        return;
      }
      continue;
    }
    Status w = store->WaitForTx(next, kPollMs);
    if (!w.ok() && w.code() != StatusCode::kDeadlineExceeded) {
      // The store is closed: waiters get the reason instead of a timeout.
      SetError(w.WithPrefix("index"));
      return;
    }
  }
}

Status Index::Rep::IndexBatch(uint64_t from, uint64_t to) {
  rocksdb::WriteBatch batch;
  // Revisions assigned in this batch, which RocksDB does not hold yet.
  std::unordered_map<std::string, uint64_t> revisions;
  for (uint64_t id = from; id <= to; id++) {
    IMMUDB_ASSIGN_OR_RETURN(Tx tx, store->ReadTx(id));
    for (size_t i = 0; i < tx.entries.size(); i++) {
      TxEntry& e = tx.entries[i];
      if (e.md.non_indexable) continue;
      uint64_t rev = 0;
      auto it = revisions.find(e.key);
      if (it != revisions.end()) {
        rev = it->second;
      } else {
        std::string v;
        const std::string lk = LatestKey(e.key);
        rocksdb::Status s = db->Get(rocksdb::ReadOptions(), lk, &v);
        if (s.ok()) {
          IndexedEntry prev;
          IMMUDB_RETURN_IF_ERROR(DecodeRecord(e.key, v, &prev));
          rev = prev.revision;
        } else if (!s.IsNotFound()) {
          return FromRocks(s, "index read");
        }
      }
      IndexedEntry rec{id, static_cast<uint32_t>(i), rev + 1, std::move(e)};
      const std::string value = EncodeRecord(rec);
      batch.Put(LatestKey(rec.entry.key), value);
      batch.Put(HistoryKey(rec.entry.key, rec.revision), value);
      revisions[rec.entry.key] = rec.revision;
    }
  }
  std::string upto;
  AppendU64BE(&upto, to);
  batch.Put(rocksdb::Slice(kIndexedUpToKey.data(), kIndexedUpToKey.size()), upto);
  IMMUDB_RETURN_IF_ERROR(FromRocks(db->Write(rocksdb::WriteOptions(), &batch), "index write"));
  {
    std::lock_guard<std::mutex> l(mu);
    indexed_upto.store(to);
  }
  cv.notify_all();
  return Status::OK();
}

}  // namespace immudb::index
