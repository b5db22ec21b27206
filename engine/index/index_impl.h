// Internal state of an Index, shared by index_open.cc, index_writer.cc and
// index_reader.cc. Includes RocksDB; never include it from a public header.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

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

// Sets the RocksDB options of the index's write side (memtable inserts,
// write batching, flushes and compaction triggers) of a column family of
// records; index_write_options.cc.
void ApplyWriteSideOptions(const IndexOptions& opts, rocksdb::ColumnFamilyOptions* o);
// The same for a database of one column family, with the database-wide
// option the index's memtable needs (no concurrent memtable writes).
void ApplyWriteSideOptions(const IndexOptions& opts, rocksdb::Options* o);

// The index's RocksDB database and its column families (index_format.h):
// the handles go before the database.
struct IndexDb {
  std::unique_ptr<rocksdb::DB> db;
  // In the order of ColumnFamilies (index_open.cc): meta, 'H', 'L'.
  std::vector<std::unique_ptr<rocksdb::ColumnFamilyHandle>> families;

  rocksdb::ColumnFamilyHandle* meta() const { return families[0].get(); }
  rocksdb::ColumnFamilyHandle* history() const { return families[1].get(); }
  rocksdb::ColumnFamilyHandle* latest() const { return families[2].get(); }
  // Flushes every family's memtable, together (atomic_flush).
  Status FlushAll(const rocksdb::FlushOptions& fo) const;
  // Releases the handles and closes the database.
  Status Close();
  ~IndexDb();
};

// Working memory of IndexBatch, used under batch_mu and kept between
// batches so that indexing a record allocates nothing: the records are
// encoded into reused buffers and copied into the reused WriteBatch.
struct IndexBatchScratch {
  // One indexable entry: its key and its place in `txs`.
  struct Item {
    // The 8 key bytes after the prefix all keys of the batch share,
    // big-endian, zero-padded: orders items as their keys do, but for
    // ties (GroupEntries).
    uint64_t order;
    std::string_view key;
    uint32_t tx;
    uint32_t entry;
    uint32_t value_at;  // Where `values` holds its value; kNoValue: not read.
  };
  static constexpr uint32_t kNoValue = UINT32_MAX;
  // A range of the value log holding values to inline, read into `values`
  // at `at`.
  struct Span {
    uint64_t offset;
    uint64_t end;
    uint32_t at;
  };
  // The items of one distinct key, consecutive in `items`, and the key's
  // latest revision before the batch.
  struct Group {
    uint32_t first;
    uint32_t count;
    uint64_t revision;
    // When the key's only version before the batch (revision 1) lives in
    // its 'L' record alone: where `firsts` holds that record (plain, the
    // 'H' record of revision 1 this batch writes); else kNoValue.
    uint32_t first_at;
    // RevisionCache::HashOf(key), set by LatestRevisions for a key the
    // revision cache is read or written for (not one new and written once).
    uint64_t hash;
  };
  // Shared with the store's recent txs (no copy); released by Trim.
  std::vector<std::shared_ptr<const Tx>> txs;
  // The items of one tx, [begin, end) in `items` before the sort.
  struct Run {
    uint32_t begin;
    uint32_t end;
  };
  std::vector<Item> items;              // Sorted by key, then by position.
  std::vector<Item> sorted;             // `items` laid out run by run.
  std::vector<Run> runs;                // One per tx with indexable entries.
  std::vector<Group> groups;            // In key order.
  std::vector<uint32_t> missing;        // Groups whose revision RocksDB holds.
  std::vector<uint32_t> history_order;  // Groups in 'H' key order.
  std::vector<Span> spans;              // In log order.
  std::string values;                   // The spans' bytes.
  std::string firsts;                   // Records of Group::first_at.
  std::string keys;                     // Encoded RocksDB keys for MultiGet.
  // One MultiGet call's keys, values and statuses (LatestRevisions); the
  // values pin nothing between calls.
  std::vector<rocksdb::Slice> get_keys;
  std::vector<rocksdb::PinnableSlice> get_values;
  std::vector<rocksdb::Status> get_statuses;
  std::string key;    // The RocksDB key being written.
  std::string value;  // The record being written.
  rocksdb::WriteBatch batch;
  // Drops buffers a large batch grew past what a usual one needs.
  void Trim();
};

struct Index::Rep {
  std::string dir;
  const Store* store = nullptr;
  IndexOptions opts;
  std::unique_ptr<IndexDb> idb;
  rocksdb::DB* db = nullptr;  // idb->db
  rocksdb::ColumnFamilyHandle* meta_cf = nullptr;
  rocksdb::ColumnFamilyHandle* history_cf = nullptr;
  rocksdb::ColumnFamilyHandle* latest_cf = nullptr;

  std::atomic<uint64_t> indexed_upto{0};
  std::atomic<bool> stop{false};
  mutable std::mutex mu;
  mutable std::condition_variable cv;  // Signalled on progress, error and stop.
  Status error;                        // GUARDED_BY(mu): the indexer's failure.
  bool closed = false;                 // GUARDED_BY(mu)
  // WhenIndexed callbacks waiting for their tx, by tx. GUARDED_BY(mu).
  std::multimap<uint64_t, std::function<void(Status)>> when_indexed;
  std::thread indexer;
  // Batches indexed by waiters (WaitFor, WhenIndexed) rather than by the
  // indexer thread; the indexer rests while this keeps growing (Run).
  std::atomic<uint64_t> waiter_batches{0};
  // Wakes the indexer from its rest: signalled (under mu) on stop only, not
  // on progress, so commits indexed by waiters do not wake it.
  std::condition_variable rest_cv;

  // Held by whoever runs IndexBatch: the indexer thread, or a thread in
  // WaitFor that indexes the committed txs itself instead of waiting to be
  // woken (one thread hand-off less per waiting write).
  std::mutex batch_mu;
  // Latest revision of recently indexed keys; used under batch_mu.
  RevisionCache revisions{0};
  // No stored key greater than this one has a latest record ('L'), so such a
  // key is new without a lookup; empty: there are no latest records. Set on
  // open, raised after each batch is written; used under batch_mu.
  std::string latest_bound;

  // Under batch_mu: indexes one batch of what is committed past
  // indexed_upto, if anything; false when there was nothing to index.
  Result<bool> IndexSome();
  // IndexSome for a waiter (WaitFor, WhenIndexed): counts its batches.
  Result<bool> IndexSomeForWaiter();

  // The indexer thread: indexes committed txs until stopped.
  void Run();
  // Indexes txs from `from` up to at most `last` (max_batch_txs,
  // max_batch_entries) in one RocksDB batch with the new marker.
  Status IndexBatch(uint64_t from, uint64_t last);
  // Reads the txs of the next batch.
  Status ReadTxs(uint64_t from, uint64_t last, std::vector<std::shared_ptr<const Tx>>* txs);

  // IndexBatchScratch (above).
  using Scratch = IndexBatchScratch;
  Scratch scratch;
  // Sorts the batch's indexable entries into scratch.items and
  // scratch.groups, and plans the value-log ranges (scratch.spans) that
  // hold the values to inline.
  void GroupEntries();
  // When every tx's items ascend: lays them out in key order by whole runs
  // and returns true, unless runs overlap (false: items unchanged).
  bool SortRuns();
  // Fills scratch.groups from the sorted items.
  void GroupSorted();
  // Reads scratch.spans into scratch.values.
  Status ReadValues();
  // Sets every group's revision: the latest indexed one (0: none), from
  // latest_bound (keys past it are new), the revision cache, or else with
  // one MultiGet, which also reads the 'L' record of keys at revision 1
  // (Group::first_at).
  Status LatestRevisions();
  // Encodes the record of item `i` of group `g` (revision: the group's + i
  // + 1) into scratch.value; a latest record with its value when it was
  // read (ReadValues).
  void EncodeItem(const Scratch::Group& g, uint32_t i, bool latest);
  void SetError(const Status& s);
  // Runs (outside mu) the WhenIndexed callbacks the index now covers, or all
  // of them with the error or the close.
  void RunWhenIndexed();
};

}  // namespace immudb::index
