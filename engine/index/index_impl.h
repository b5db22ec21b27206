// Internal state of an Index, shared by index_open.cc, index_writer.cc and
// index_reader.cc. Includes RocksDB; never include it from a public header.
#pragma once

#include <rocksdb/db.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "index/index.h"
#include "index/revision_cache.h"

namespace immudb::index {

// Converts a RocksDB status at the boundary; `what` says where.
Status FromRocks(const rocksdb::Status& s, std::string_view what);

struct Index::Rep {
  std::string dir;
  const Store* store = nullptr;
  IndexOptions opts;
  std::unique_ptr<rocksdb::DB> db;

  std::atomic<uint64_t> indexed_upto{0};
  std::atomic<bool> stop{false};
  mutable std::mutex mu;
  mutable std::condition_variable cv;  // Signalled on progress, error and stop.
  Status error;                        // GUARDED_BY(mu): the indexer's failure.
  bool closed = false;                 // GUARDED_BY(mu)
  // WhenIndexed callbacks waiting for their tx, by tx. GUARDED_BY(mu).
  std::multimap<uint64_t, std::function<void(Status)>> when_indexed;
  std::thread indexer;

  // Held by whoever runs IndexBatch: the indexer thread, or a thread in
  // WaitFor that indexes the committed txs itself instead of waiting to be
  // woken (one thread hand-off less per waiting write).
  std::mutex batch_mu;
  // Latest revision of recently indexed keys; used under batch_mu.
  RevisionCache revisions{0};

  // Under batch_mu: indexes one batch of what is committed past
  // indexed_upto, if anything; false when there was nothing to index.
  Result<bool> IndexSome();

  // The indexer thread: indexes committed txs until stopped.
  void Run();
  // Indexes txs from `from` up to at most `last` (max_batch_txs,
  // max_batch_entries) in one RocksDB batch with the new marker.
  Status IndexBatch(uint64_t from, uint64_t last);
  // Reads the txs of the next batch.
  Status ReadTxs(uint64_t from, uint64_t last, std::vector<Tx>* txs);
  // Fills `revs` with the latest indexed revision (0: none) of every
  // indexable key in `txs`, from the revision cache or else RocksDB.
  Status LatestRevisions(const std::vector<Tx>& txs,
                         std::unordered_map<std::string_view, uint64_t>* revs);
  void SetError(const Status& s);
  // Runs (outside mu) the WhenIndexed callbacks the index now covers, or all
  // of them with the error or the close.
  void RunWhenIndexed();
};

}  // namespace immudb::index
