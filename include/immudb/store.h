// Store: the embedded, append-only, verifiable transaction store.
//
// A store is a directory holding four logs (docs/format/): the value log, the
// tx log (headers and entry references), the AHT over every Alh, and the
// commit log, whose records are the commit points. Transactions are numbered
// from 1 and chained with Alh (proofs.md §3); BlTxID = ID - 1 always.
//
// Thread-safety: all methods are thread-safe. Many threads may Commit at once;
// their transactions are made durable together (group commit).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "immudb/hash.h"
#include "immudb/options.h"
#include "immudb/proof.h"
#include "immudb/result.h"
#include "immudb/status.h"
#include "immudb/tx.h"

namespace immudb {

// One entry to commit: the stored key and value, as the database layer
// encodes them (proofs.md §1.1), and optional metadata.
struct EntrySpec {
  std::string key;
  std::string value;
  KVMetadata md;
};

// The last committed transaction: its id and Alh (0 and H("") when empty).
struct StoreState {
  uint64_t tx_id = 0;
  Hash alh{};
};

// The message every read of a value discarded by truncation starts with; the
// status is FailedPrecondition.
inline constexpr char kValueTruncatedMessage[] = "value is not available: discarded by truncation";
// True for the status of a read of a value discarded by truncation.
bool IsValueTruncated(const Status& s);

class Store {
 public:
  virtual ~Store() = default;

  // Opens or creates the store in `dir`, repairing a torn tail left by a crash
  // (the cut is synced). Corruption names file and offset when damage is found
  // anywhere but at the tail. Takes an exclusive lock on the directory.
  static Result<std::unique_ptr<Store>> Open(const std::string& dir, const StoreOptions& opts);

  // Commits one transaction of 1..max_tx_entries entries with distinct keys.
  // Returns its header once it is committed (durable in synced mode).
  // InvalidArgument (nothing written) on an empty tx, too many entries,
  // duplicate or empty keys, or keys/values over the limits. After a failed
  // write or fsync the store refuses every later commit until reopened.
  virtual Result<TxHeader> Commit(std::vector<EntrySpec> entries) = 0;

  // Commit of *entries that hands them back afterwards, whatever the outcome,
  // with the buffers of their strings (a key's buffer the store kept for its
  // memory of recent txs comes back as an empty string). Their contents are
  // unspecified: a caller that assigns its next tx's keys and values into the
  // same vector allocates nothing per entry once its buffers are large enough.
  virtual Result<TxHeader> CommitReusing(std::vector<EntrySpec>* entries) = 0;

  // Commit without waiting for it: returns at once, and `done` runs exactly
  // once with what Commit would have returned. It runs on the caller's thread
  // when the tx is refused before it is queued (invalid entries, a closed or
  // failed store), else on the store's commit thread once the tx is committed
  // (durable in synced mode). That thread commits nothing else while `done`
  // runs, so `done` should hand long work elsewhere. Close waits for every
  // queued `done`.
  // Within a CommitHere scope on the calling thread, the batch that would
  // start on the commit thread is left to that scope, which leads it on the
  // calling thread (the callbacks then run there).
  using CommitCallback = std::function<void(Result<TxHeader>)>;
  virtual void CommitAsync(std::vector<EntrySpec> entries, CommitCallback done) = 0;

  // Commits a transaction exported from another store (replication, restore
  // of a backup) with its original header, so it gets the same Alh. The
  // header must be the one this store chains next: id = last + 1,
  // BlTxID = id - 1, BlRoot = this store's AHT root, PrevAlh = the last Alh,
  // Ts not before the last tx's, NEntries and Eh matching `entries` (hashed
  // with the header's version; version 0 carries no metadata).
  // FailedPrecondition when it does not chain, InvalidArgument when it is
  // malformed; nothing is written then, and the store stays usable.
  virtual Result<TxHeader> CommitExported(const TxHeader& header,
                                          std::vector<EntrySpec> entries) = 0;

  virtual StoreState CurrentState() const = 0;

  // Blocks until tx `id` is committed (OK), `timeout_ms` passes
  // (DeadlineExceeded), or the store is closed (FailedPrecondition).
  virtual Status WaitForTx(uint64_t id, uint64_t timeout_ms) const = 0;

  // Reads committed tx `id` (header and entries, no values). NotFound past the
  // last committed tx; Corruption if its bytes fail their checks.
  virtual Result<Tx> ReadTx(uint64_t id) const = 0;
  virtual Result<TxHeader> ReadTxHeader(uint64_t id) const = 0;
  // Appends committed txs from, from+1, ... to *out (headers and entries, no
  // values): at most `max_txs`, and none past the last committed tx. For
  // readers that follow the log, like the key index: the most recent txs
  // come from memory, as the commit that hashed them built them; older ones
  // are read and checked as ReadTx does.
  virtual Status ReadTxsFollowing(uint64_t from, size_t max_txs, std::vector<Tx>* out) const = 0;
  // ReadTxsFollowing without copying the recent txs: each comes as an
  // immutable object shared with the store's memory of recent txs (the
  // store builds a new one for a later tx while a reader still holds it).
  // Older txs are read and checked as ReadTx does.
  virtual Status ReadTxsFollowingShared(uint64_t from, size_t max_txs,
                                        std::vector<std::shared_ptr<const Tx>>* out) const = 0;
  // The reader that follows the log (the key index) has read every tx up to
  // `tx`. The store's memory of recent txs, which otherwise keeps the newest
  // 65,536 entries' txs, then also keeps the txs after `tx` that fall past
  // that, up to 262,144 entries in all, so that a reader lagging behind
  // commits finds them in memory instead of reading and checking them again
  // from the log. UINT64_MAX (the default, and what a closing reader sets):
  // no reader; the txs after `tx` are kept only within the usual bound.
  virtual void KeepRecentTxsAfter(uint64_t tx) const = 0;
  // Alh of committed tx id (EmptyHash() for id 0).
  virtual Result<Hash> TxAlh(uint64_t id) const = 0;
  // Reads an entry's value from the value log and checks it against hval;
  // Corruption on mismatch. A value discarded by truncation (a tx <=
  // TruncatedUpTo()) fails with the status IsValueTruncated() recognises.
  virtual Result<std::string> ReadValue(const TxEntry& entry) const = 0;
  // ReadTx(id) and ReadValue(entry) for an entry of that tx (as the key index
  // holds it), with the same checks and errors, and the value in *value. In
  // store formats 2 and 3 a tx's values lie just before its record in the tx
  // log: a value close enough is read in one read with the record.
  virtual Result<Tx> ReadTxAndValue(uint64_t id, const TxEntry& entry,
                                    std::string* value) const = 0;
  // Copies bytes [offset, offset + n) of the value log (the tx log in store
  // formats 2 and 3) into dst, unchecked: for readers that take the values
  // of many consecutive txs at once, like the key index, since those values
  // lie in one range (with the txs' records between them in formats 2 and
  // 3). The caller checks each value against its hval. Bytes discarded by
  // truncation read as zeros. OutOfRange past the end of the log.
  virtual Status ReadValueLogRange(uint64_t offset, size_t n, char* dst) const = 0;

  // Lowers the budget of mapped value reads (StoreOptions::value_map_bytes)
  // to `bytes`; it never raises it. Chunks already mapped stay mapped.
  virtual void LimitValueMap(uint64_t bytes) = 0;

  // Truncation (docs/format/truncation.md): discards the values of every tx
  // <= tx_id, giving their disk space back where the file system can, while
  // every header, entry (key, metadata, value length and hash) and proof
  // stays readable and verifiable. The new truncation point is recorded
  // durably before any byte is discarded, and never moves back: a tx_id at
  // or below TruncatedUpTo() changes nothing (it finishes discarding what an
  // interrupted call left). InvalidArgument for tx 0 or a tx not committed;
  // FailedPrecondition for a tx not yet durable. Runs beside commits and
  // reads; one truncation at a time.
  struct TruncationResult {
    uint64_t truncated_upto = 0;  // TruncatedUpTo() afterwards.
    uint64_t released_bytes = 0;  // Bytes given back to the file system by this call.
  };
  virtual Result<TruncationResult> TruncateValues(uint64_t tx_id) = 0;
  // The truncation point: values of txs <= it are discarded (0: none).
  virtual uint64_t TruncatedUpTo() const = 0;

  // htree inclusion proof of entry `index` of tx `id`.
  virtual Result<InclusionProof> EntryInclusionProof(uint64_t id, size_t index) const = 0;
  // Linear proof from tx s to tx t (1 <= s <= t <= last committed).
  virtual Result<LinearProof> BuildLinearProof(uint64_t s, uint64_t t) const = 0;
  // DualProof(source, target) per proofs.md §5.3; REQUIRES source.id <= target.id,
  // both committed.
  virtual Result<DualProof> BuildDualProof(const TxHeader& source,
                                           const TxHeader& target) const = 0;
  // ReadTxAndValue(id, entry, value) and BuildDualProof(its header, target),
  // with the same checks and errors, for entry number `index` of tx `id` (as
  // the key index holds it). When the entry is the tx's first and the target
  // is newer, the tx record is read with the value and checked against the
  // tx's leaf in the AHT, which the proof reads anyway, instead of its commit
  // record: one read fewer.
  virtual Result<Tx> ReadTxAndValueWithProof(uint64_t id, uint32_t index, const TxEntry& entry,
                                             const TxHeader& target, std::string* value,
                                             DualProof* proof) const = 0;

  // Waits for in-flight commits, syncs and closes the files. Further calls fail.
  virtual Status Close() = 0;

  // What the last open repaired (a torn tail cut, a rebuilt AHT), one line
  // each; empty after a clean open. For the operator's log.
  virtual std::vector<std::string> RecoveryNotes() const = 0;

  // Commit pipeline counters since open (for benchmarks and metrics).
  struct CommitStats {
    uint64_t batches = 0;      // Batches published.
    uint64_t txs = 0;          // Txs committed in them.
    uint64_t sync_rounds = 0;  // Rounds of concurrent fsyncs.
    uint64_t sync_ns = 0;      // Time spent in those rounds.
    // Batches taken by a writer right after it published its own (instead of
    // waking a queued writer to lead them).
    uint64_t publisher_leads = 0;
    // Memory the AHT's block cache holds (StoreOptions::aht_block_cache_bytes)
    // and the lowest level it keeps (64: none).
    uint64_t aht_cache_bytes = 0;
    int aht_cache_min_level = 64;
  };
  virtual CommitStats Stats() const = 0;
};

// While one lives on a thread, the CommitAsync calls made on that thread
// that would wake a store's commit thread to lead their batch leave that
// batch to this thread instead: Lead (or the destructor) commits every such
// batch here, running their callbacks on this thread, before it returns. A
// thread that gathers many commits first and then leads them saves the
// wake-up of the commit thread and runs the callbacks itself.
class CommitHere {
 public:
  CommitHere();
  ~CommitHere();
  CommitHere(const CommitHere&) = delete;
  CommitHere& operator=(const CommitHere&) = delete;
  // Leads the batches left to this scope so far, until their stores have no
  // queued commits.
  void Lead();

  // For the store: the scope on this thread, or null.
  static CommitHere* Current();
  // For the store: `lead` leads the store's queued commits on this thread.
  void Defer(std::function<void()> lead) { deferred_.push_back(std::move(lead)); }

 private:
  CommitHere* outer_;
  std::vector<std::function<void()>> deferred_;
};

}  // namespace immudb
