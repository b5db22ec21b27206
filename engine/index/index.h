// Index: the key index of a store, kept in a RocksDB database.
//
// The index is derived data: a background thread reads committed transactions
// from the Store in order and records, for every indexable entry, where each
// version of its stored key lives (tx, position, value location, hash). It
// answers latest-version, revision, as-of-tx, history, prefix-scan and count
// queries. "Indexed up to tx N" is written in the same RocksDB batch as the
// entries of tx N, so the index always holds a prefix of the log. An index that
// is missing, unreadable or inconsistent is deleted and rebuilt on Open; a
// broken index never stops the store from opening.
//
// Thread-safety: all methods are thread-safe. Reads see the state of one
// committed index batch.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "immudb/result.h"
#include "immudb/status.h"
#include "immudb/store.h"
#include "immudb/tx.h"

namespace rocksdb {
class Env;
}  // namespace rocksdb

namespace immudb::index {

struct IndexOptions {
  // Run RocksDB's full checksum check on open, so a damaged file leads to a
  // rebuild instead of failing reads later.
  bool verify_checksums_on_open = true;
  // Most transactions, and (past the first tx) most entries, written in one
  // RocksDB batch.
  size_t max_batch_txs = 4096;
  size_t max_batch_entries = 16384;
  // Keys whose latest revision the indexer keeps in memory, so an update of a
  // recently written key needs no RocksDB read (0: no cache).
  size_t revision_cache_entries = 1 << 17;
  // RocksDB memory: the LRU block cache (data blocks) and the memtables of
  // records: write_buffer_bytes split between the 'H' and the 'L' column
  // families (at most two memtables each). Filters and block indexes are
  // held apart, about 3 bytes per record. See docs/format/index.md for the
  // memory bound.
  size_t block_cache_bytes = 128 << 20;
  // The most Index::SetBlockCacheBytes can raise the cache to (the clock
  // cache sizes its table for it when created); 0: block_cache_bytes.
  size_t block_cache_max_bytes = 0;
  size_t write_buffer_bytes = 32 << 20;
  // Write index batches without RocksDB's WAL. The index is derived data: a
  // crash loses at most the unflushed memtable, and "indexed up to" always
  // matches what was flushed (docs/format/index.md, write protocol).
  bool disable_wal = true;
  // When a commit wakes the indexer thread and no one waits for the index,
  // the thread first waits this long for more commits, so that one batch
  // takes them all: fewer wake-ups and less fixed cost per batch (a RocksDB
  // write and a MultiGet). A tx no one waits for is then indexed up to this
  // much later; waiters (WaitFor, WhenIndexed) index at once. 0: at once.
  uint32_t gather_us = 2000;
  // Latest-version records of values of at most this many bytes carry the
  // value itself, so a Get reads it from the index instead of the tx log
  // (one read instead of two); 0: never (the default; see
  // DatabaseOptions::index_inline_value_bytes). Not part of the format:
  // records of either kind are read whatever this is (docs/format/index.md).
  uint32_t inline_value_max_bytes = 0;
  // Environment RocksDB reads and writes the index through, and that Open
  // lists and removes the index's files with; nullptr: rocksdb::Env::Default().
  // Not owned; must outlive the index.
  rocksdb::Env* env = nullptr;
};

// One indexed version of a stored key.
struct IndexedEntry {
  uint64_t tx = 0;
  uint32_t index = 0;     // Position of the entry in its tx.
  uint64_t revision = 0;  // 1-based version number of the key.
  TxEntry entry;          // Stored key, metadata, hval and value location.
  // The value, when the record carries it (latest records of values of at
  // most IndexOptions::inline_value_max_bytes): unchecked, as the index
  // holds it; readers check it against entry.hval before use.
  bool value_inline = false;
  std::string value;
};

// A range of latest versions: stored keys starting with `prefix`, after
// `seek_key` (or at it when inclusive) and before `end_key` (or at it when
// inclusive), ascending or, with `desc`, descending. Empty seek/end = unbounded.
struct ScanSpec {
  std::string prefix;
  std::string seek_key;
  bool inclusive_seek = false;
  std::string end_key;
  bool inclusive_end = false;
  bool desc = false;
};

class Index {
 public:
  Index(const Index&) = delete;
  Index& operator=(const Index&) = delete;
  ~Index();

  // Opens (or creates, or rebuilds) the index in `dir` over `store` and starts
  // the indexer thread. `store` is not owned and must outlive the index.
  // Fails only when a fresh index cannot be created (I/O error).
  static Result<std::unique_ptr<Index>> Open(const std::string& dir, const Store* store,
                                             const IndexOptions& opts);

  // Stops the indexer and closes RocksDB. Idempotent.
  Status Close();

  // Last tx whose entries are all indexed.
  uint64_t IndexedUpTo() const;
  // Writes the index's memory tables to its files (and syncs them), so a
  // reopen reads files instead of replaying; Compact also merges the files.
  Status Flush();
  Status Compact();
  // True when Open found the index unusable, deleted it and started over.
  bool rebuilt_on_open() const { return rebuilt_; }

  // Blocks until IndexedUpTo() >= tx (OK), timeout (DeadlineExceeded), close
  // (FailedPrecondition), or an indexer failure (its Status).
  Status WaitFor(uint64_t tx, uint64_t timeout_ms) const;

  // Runs `done` once, when IndexedUpTo() >= tx (OK), on close
  // (FailedPrecondition) or on an indexer failure (its Status). Never blocks:
  // when the index does not cover `tx` yet and no one else is indexing, the
  // caller indexes what is committed itself and `done` runs now; otherwise
  // `done` runs on the thread that indexes `tx` (or closes the index). `tx`
  // must be committed.
  void WhenIndexed(uint64_t tx, std::function<void(Status)> done) const;

  // Read memory. LatestRecordsBytes: about how many bytes of the index's
  // files hold latest-version records (what a Get reads; the memtables are
  // not counted). BlockCacheBytes: the block cache's capacity, which
  // SetBlockCacheBytes changes (a lower one evicts down to it).
  uint64_t LatestRecordsBytes() const;
  size_t BlockCacheBytes() const;
  void SetBlockCacheBytes(size_t bytes);

  // Latest version of a stored key. NotFound when never indexed.
  Result<IndexedEntry> Get(std::string_view key) const;
  // Version `revision` (1-based). NotFound when out of range.
  Result<IndexedEntry> GetRevision(std::string_view key, uint64_t revision) const;
  // Latest version written in a tx <= `tx`. NotFound when none.
  Result<IndexedEntry> GetAsOf(std::string_view key, uint64_t tx) const;
  // Versions oldest first (newest first with `desc`), skipping `offset`, at
  // most `limit`.
  Result<std::vector<IndexedEntry>> History(std::string_view key, uint64_t offset, uint64_t limit,
                                            bool desc) const;
  // Calls `visit` on each latest version in `spec`, in order, until it returns
  // false.
  Status Scan(const ScanSpec& spec, const std::function<bool(const IndexedEntry&)>& visit) const;
  // Number of stored keys (latest versions, whatever their metadata) under
  // `prefix`.
  Result<uint64_t> Count(std::string_view prefix) const;

 private:
  struct Rep;
  explicit Index(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
  bool rebuilt_ = false;
};

}  // namespace immudb::index
