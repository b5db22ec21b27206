// Internal state of an Index, shared by index_open.cc, index_writer.cc and
// index_reader.cc. Includes RocksDB; never include it from a public header.
#pragma once

#include <rocksdb/db.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "index/index.h"

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
  std::thread indexer;

  // The indexer thread: indexes committed txs until stopped.
  void Run();
  // Indexes txs from..to (inclusive) in one batch.
  Status IndexBatch(uint64_t from, uint64_t to);
  void SetError(const Status& s);
};

}  // namespace immudb::index
