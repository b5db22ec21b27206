// StoreImpl: the Store behind include/immudb/store.h, split by concern:
// store_open.cc (layout, recovery), store_commit.cc (validation, group commit),
// store_read.cc (reads and proofs). The cross-file write order is documented
// in docs/format/store.md.
#pragma once

#include <time.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ahtree/ahtree.h"
#include "ahtree/ahtree_format.h"
#include "appendable/appendable.h"
#include "immudb/store.h"
#include "store/log_format.h"
#include "store/value_map.h"
#include "util/parallel.h"

namespace immudb::store {

// For tests: when set, a queued committer calls it after reading which batch
// it is in and before it claims a leadership handed over to the queue, to
// widen that window. Null outside tests.
inline std::atomic<void (*)()> test_before_lead_claim{nullptr};

// CLOCK_MONOTONIC_COARSE in nanoseconds: advances by the kernel's tick.
inline uint64_t CoarseMonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000 + static_cast<uint64_t>(ts.tv_nsec);
}

// Tx headers already read and checked, by id, in a few slots: a client that
// proves every read against its trusted tx asks for that tx's header each
// time. Committed headers never change. Thread-safe.
class HeaderCache {
 public:
  bool Lookup(uint64_t id, TxHeader* out) const {
    std::lock_guard<std::mutex> l(mu_);
    const TxHeader& h = slots_[id % kSlots];
    if (h.id != id || id == 0) return false;
    *out = h;
    return true;
  }
  void Insert(const TxHeader& h) {
    std::lock_guard<std::mutex> l(mu_);
    slots_[h.id % kSlots] = h;
  }

 private:
  static constexpr size_t kSlots = 64;
  mutable std::mutex mu_;
  std::array<TxHeader, kSlots> slots_{};  // id 0: empty.
};

// ahtree::RecordOffset(n + 1), the AHT's bytes at n leaves, for a caller
// that asks about a growing n: one record added when n grew by one since the
// last call, else computed again.
struct AhtBytes {
  uint64_t n = 0, bytes = 0;
  uint64_t At(uint64_t m) {
    if (m == n + 1) {
      bytes += ahtree::RecordSize(m);
    } else if (m != n) {
      bytes = ahtree::RecordOffset(m + 1);
    }
    n = m;
    return bytes;
  }
};

class StoreImpl : public Store {
 public:
  StoreImpl(const std::string& dir, const StoreOptions& opts);
  ~StoreImpl() override;

  // Opens the files and recovers (store_open.cc).
  Status OpenAndRecover();

  Result<TxHeader> Commit(std::vector<EntrySpec> entries) override;
  Result<TxHeader> CommitReusing(std::vector<EntrySpec>* entries) override;
  void CommitAsync(std::vector<EntrySpec> entries, CommitCallback done) override;
  Result<TxHeader> CommitExported(const TxHeader& header, std::vector<EntrySpec> entries) override;
  StoreState CurrentState() const override;
  Status WaitForTx(uint64_t id, uint64_t timeout_ms) const override;
  Result<Tx> ReadTx(uint64_t id) const override;
  Result<TxHeader> ReadTxHeader(uint64_t id) const override;
  Status ReadTxsFollowing(uint64_t from, size_t max_txs, std::vector<Tx>* out) const override;
  Status ReadTxsFollowingShared(uint64_t from, size_t max_txs,
                                std::vector<std::shared_ptr<const Tx>>* out) const override;
  void KeepRecentTxsAfter(uint64_t tx) const override;
  Result<Hash> TxAlh(uint64_t id) const override;
  Result<std::string> ReadValue(const TxEntry& entry) const override;
  Result<Tx> ReadTxAndValue(uint64_t id, const TxEntry& entry, std::string* value) const override;
  Status ReadValueLogRange(uint64_t offset, size_t n, char* dst) const override;
  void LimitValueMap(uint64_t bytes) override;
  Result<TruncationResult> TruncateValues(uint64_t tx_id) override;
  uint64_t TruncatedUpTo() const override {
    return truncated_upto_.load(std::memory_order_acquire);
  }
  Result<InclusionProof> EntryInclusionProof(uint64_t id, size_t index) const override;
  Result<LinearProof> BuildLinearProof(uint64_t s, uint64_t t) const override;
  Result<DualProof> BuildDualProof(const TxHeader& source, const TxHeader& target) const override;
  Result<Tx> ReadTxAndValueWithProof(uint64_t id, uint32_t index, const TxEntry& entry,
                                     const TxHeader& target, std::string* value,
                                     DualProof* proof) const override;
  Status Close() override;
  std::vector<std::string> RecoveryNotes() const override { return notes_; }
  CommitStats Stats() const override;
  // Bytes of the value log mapped for reads so far (StoreOptions::value_map_bytes).
  uint64_t value_map_mapped_bytes() const { return value_map_ ? value_map_->mapped_bytes() : 0; }

 private:
  // A transaction waiting in the commit queue. Everything that does not
  // depend on its position in the log is computed by the caller's thread
  // before it queues (value hashes, digests, Eh), so hashing runs in parallel.
  struct Writer {
    std::vector<EntrySpec> specs;
    // The values' hashes: in small_hvals for txs of up to kSmallTx entries,
    // else in hvals.
    static constexpr size_t kSmallTx = 4;
    Hash small_hvals[kSmallTx];
    std::vector<Hash> hvals;
    const Hash& hval(size_t i) const {
      return specs.size() <= kSmallTx ? small_hvals[i] : hvals[i];
    }
    uint16_t version = 0;
    Hash eh{};
    Status status;
    TxHeader header;
    // kWaiting until a leader commits this writer (kDone).
    static constexpr uint32_t kWaiting = 0, kDone = 1;
    std::atomic<uint32_t> state{kWaiting};
    // The batch a leader took this writer into (set under mu_), else kNoBatch.
    static constexpr uint64_t kNoBatch = ~uint64_t{0};
    std::atomic<uint64_t> batch_no{kNoBatch};
    bool lead = false;  // Became the leader on arrival.
    // CommitExported: the header the tx must be stored with (the leader
    // checks it chains; a mismatch fails only this writer).
    const TxHeader* exported = nullptr;
    // CommitAsync: no thread waits for this writer; whoever publishes it
    // runs `done` and deletes it.
    CommitCallback done;
  };

  // Hashes the writer's values, digests and Eh (before it queues).
  Status Prepare(Writer* w, std::vector<EntrySpec> entries);

  // Hashes the writer's values, digests and Eh; queues it and waits for its
  // commit (or leads).
  Result<TxHeader> Enqueue(Writer* w, std::vector<EntrySpec> entries);

  // A batch between its write (stage A, by the leader) and its publication
  // (stage B: fsync, then publish in batch order).
  struct Batch {
    uint64_t no = 0;
    std::vector<Writer*> writers;
    Status status;  // Of stage A.
    // The logs to make durable and the FlushForSync ticket of each; empty
    // when not synced.
    std::vector<std::pair<Appendable*, uint64_t>> tickets;
    uint64_t last_id = 0;  // 0: no tx of it was written.
    Hash last_alh{};
    // For recent_: the first ntxs are this batch's; the rest, and the
    // buffers of all, are kept for reuse. A slot is null, or holds a tx
    // that left the ring (its buffers are reused when no reader holds it).
    std::vector<std::shared_ptr<Tx>> txs;
    size_t ntxs = 0;
    bool syncs_clog = false;  // The commit log is among `tickets`.
    // Unsynced mode's periodic sync: `tickets` go to the background syncer
    // and the batch publishes without waiting for them.
    bool background_sync = false;
    // The AHT leaves whose fsync this batch registered
    // (AHTree::FlushForSync) for the background syncer; 0: none.
    uint64_t aht_sync_upto = 0;
    // The leader already merged the store's error state into `status`.
    bool error_checked = false;
    // The commit records of its txs, appended to the commit log when the
    // batch is finished (FinishBatchWrite).
    std::string crecs;

    // Empties the batch for batch number `n`, keeping every buffer.
    void Reset(uint64_t n) {
      no = n;
      writers.clear();
      status = Status::OK();
      tickets.clear();
      last_id = 0;
      last_alh = Hash{};
      ntxs = 0;
      syncs_clog = false;
      background_sync = false;
      aht_sync_upto = 0;
      error_checked = false;
      crecs.clear();
    }
  };

  // Leads until `self` is committed: takes the queued writers (up to the
  // batch limit) and writes them (stage A); when `self` is in the batch,
  // hands leadership to a queued writer at once and syncs and publishes its
  // batch while the next one is written (stage B). A writer that finds no
  // batch slot free parks the leadership and returns to wait; after
  // publishing, a writer may take a parked or not yet claimed leadership and
  // lead one more batch the same way (TakeLeadAfterPublish).
  // With `self` null (the commit thread), leads until the queue is empty.
  // `held`: the caller holds mu_ (moved in) and has checked that a batch
  // slot is free, so the first batch is taken under that lock.
  void Lead(Writer* self, std::unique_lock<std::mutex>* held = nullptr);
  // After publishing its batch: claims a leadership handed over but not yet
  // claimed, or a parked one. True: the caller leads now.
  bool TakeLeadAfterPublish();
  // After publishing its batch, a writer that does not lead on hands a
  // parked leadership over (HandOver).
  void UnparkLead();
  // Makes the first queued writer's thread (or, when it has none, the commit
  // thread) the leader; `next_batch` is the number of the next batch to take.
  // REQUIRES: the caller holds leadership and gives it up, mu_ not held.
  void HandOver(bool to_commit_thread, uint64_t next_batch);
  // The commit thread: leads whenever handed leadership (async_lead_).
  void CommitThreadLoop();
  // Hands leadership to the commit thread (REQUIRES: the caller holds
  // leadership and gives it up).
  void WakeCommitThread();
  // Waits until `self` is committed (true) or this writer, not yet taken
  // into a batch, has claimed leadership (false).
  bool WaitCommittedOrLead(Writer* self);
  // Unsynced stores: waits a few µs, without sleeping, for self's commit or
  // for a handed-over leadership, when no other writer is already spinning.
  // Returns having seen either or not: WaitCommittedOrLead then decides.
  void SpinForCommit(const Writer* self);
  // Stage B: runs the batch's fsyncs, waits for the batch before it to be
  // published, publishes the batch (or its failure) and wakes its writers.
  void SyncAndPublish(Batch* batch);

  // Unsynced mode: hands the batch's tickets to the background syncer
  // thread (started on first use), which merges pending requests, runs one
  // round for them and advances durable_id_ (a failure sets bg_error_).
  void ScheduleBackgroundSync(const Batch& batch);
  // One round (under sync_mu_) for the tickets no finished round covered
  // yet: SyncFlushed of each such log, concurrently; records what it covered.
  Status SyncTickets(const std::vector<std::pair<Appendable*, uint64_t>>& tickets);
  // Raises `mark` to `to` (never lowers it).
  static void Advance(std::atomic<uint64_t>* mark, uint64_t to);
  void BackgroundSyncLoop();
  // Lets the background syncer finish what is pending and joins it.
  void StopBackgroundSync();

  Status ValidateEntries(const std::vector<EntrySpec>& entries) const;
  // Why the store takes no more writes (closed, or its error state), or OK.
  // REQUIRES: mu_ held.
  Status RefusesWrites() const {
    if (closed_) return Status::FailedPrecondition("store is closed");
    return bg_error_;
  }
  // Stage A: writes one batch as leader (to the operating system); fills
  // each writer's header and the batch's syncs and txs.
  Status WriteBatch(Batch* batch);
  int64_t NowUnixSeconds() const;
  // Appends w's tx after the last one (its header, values, tx record, AHT
  // leaf) and its commit record to batch->crecs; the tx goes to the batch's
  // txs. An exported tx that does not chain sets w->status and appends
  // nothing. An error leaves the logs unusable (the store's error state).
  Status AppendTx(Writer* w, int64_t now, Batch* batch);
  // After the batch's txs are appended: its commit records to the commit
  // log, the AHT's lazy sync, and the logs written out for the batch's round
  // (batch->tickets).
  Status FinishBatchWrite(Batch* batch);

  // Synced stores: every committer appends its own tx (under append_mu_) to
  // the open batch, and whoever holds the round token runs rounds: it takes
  // the open batch (everything appended so far), syncs it, publishes it and
  // wakes its writers; the next round takes what was appended meanwhile
  // (docs/format/store.md, "Commit pipeline").
  Result<TxHeader> EnqueueSynced(Writer* w);
  bool appending_committers() const { return opts_.synced && opts_.committers_append; }
  // Appends w to the open batch, once a round has taken it when it is full
  // (max_group_commit_txs). Not OK when the store refuses it (closed, error
  // state) or w's own tx was refused.
  Status AppendToOpenBatch(Writer* w);
  // After an append: takes the round token when nobody holds it. A writer
  // (`self`) then runs the round that covers its tx; CommitAsync (null)
  // hands the token to the commit thread.
  void RoundsAfterAppend(Writer* self);
  // Takes the round token if nobody holds it.
  bool TakeRoundToken();
  // Runs one round with the token held, then releases it, or hands it to
  // the commit thread while more is pending.
  void RunRoundAndRelease();
  // Runs one round for the open batch (REQUIRES: the round token held).
  // False when nothing was appended since the last round.
  bool RunRound();
  // The token holder is done: gives the token back, or keeps it (true)
  // when a tx was appended meanwhile that no round covers yet.
  bool ReleaseRoundToken();
  bool RoundPending() const { return appended_id_.load() > rounded_id_.load(); }
  // The commit thread of a synced store: runs rounds while any is pending.
  void RunRoundsOnCommitThread();
  // Syncs every log and the AHT, concurrently (recovery).
  Status SyncAll();

  // Reads and checks commit record id (1-based); NotFound past the last
  // committed tx.
  Result<CommitRecord> ReadCommitRecord(uint64_t id) const;
  // Reads the tx record a commit record points to, checks its checksum and
  // that it hashes to the commit record's Alh (and chains to prev_alh).
  // prev_alh: the Alh of tx id - 1 to check the chain against; nullptr skips it.
  Result<Tx> ReadTxAt(const CommitRecord& rec, const Hash* prev_alh) const;
  // NotFound unless tx id is committed (id 0 never is).
  Status CheckCommittedId(uint64_t id) const;
  // Corruption when the commit record gives the tx record a length no record
  // can have.
  Status CheckTxRecordLen(const CommitRecord& rec) const;
  // ReadTxAt's checks of the record's bytes `buf` (rec.tx_len of them).
  Result<Tx> DecodeTxAt(const CommitRecord& rec, std::string_view buf, const Hash* prev_alh) const;
  // The checks of a tx record's own bytes (checksum, id, entry count, Eh) for
  // tx `id`, whose record starts at tx log offset `off`; not its Alh.
  Result<Tx> DecodeTxRecord(uint64_t id, uint64_t off, std::string_view record) const;
  // Tx `id` from the tx log bytes around `entry`, its first entry's value
  // (format 3): the values' length before the value gives the record's
  // place. Checked as DecodeTxRecord does, and the value against the entry;
  // its Alh not yet against the committed one. NotFound when the record is
  // not there (another entry's value, a larger record, another format).
  Result<Tx> ReadTxBesideFirstValue(uint64_t id, const TxEntry& entry, std::string* value) const;
  // BuildDualProof, and with source_leaf the source's AHT leaf hash.
  Result<DualProof> DualProofWithLeaf(const TxHeader& source, const TxHeader& target,
                                      Hash* source_leaf) const;
  // The commit record of tx id and the Alh it must chain to, in one read;
  // NotFound for an id that is 0 or not committed.
  Status LoadTxCommitRecord(uint64_t id, CommitRecord* rec, Hash* prev_alh) const;
  // The value's hash check and its errors, as ReadValue has them.
  Status CheckValue(const TxEntry& entry, std::string_view v) const;
  Result<TxHeader> ReadHeaderAt(const CommitRecord& rec) const;
  Status CheckValues(const Tx& tx) const;
  uint64_t committed_id() const { return committed_id_.load(std::memory_order_acquire); }

  // Recovery helpers (store_open.cc).
  Status RecoverTail();
  // Reads and checks commit record `id` whether or not it is committed yet:
  // recovery reads records before committed_id_ is set. Corruption when its
  // checksum or position is wrong.
  Result<CommitRecord> LoadCommitRecord(uint64_t id) const;
  // The same for `count` (1 or 2) consecutive records from `first`, in one read.
  Status LoadCommitRecords(uint64_t first, size_t count, CommitRecord* out) const;
  // Checks tx `rec` completely: record, chain to `prev_alh`, values.
  Status CheckTxForRecovery(const CommitRecord& rec, const Hash& prev_alh, Tx* tx) const;
  Status RebuildAhtTail(uint64_t durable, const std::vector<Hash>& alhs);
  // Format 3: reads the tx log forward from `*tx_end` (the end of tx `*good`)
  // for txs whose commit records were lost, checks each one completely
  // (frame, record, chain, AHT root, values) and re-appends its AHT leaf and
  // commit record; stops at the first that does not check out.
  Status RecoverFromTxLog(uint64_t durable, uint64_t* good, Hash* prev, int64_t* ts,
                          uint64_t* tx_end);
  Status RemoveDirFiles(const std::string& dir);

  // Truncation (store_truncate.cc). Reads the truncation mark, if any, before
  // recovery (which must not check the discarded values of txs <= it).
  Status LoadTruncationMark();
  // After recovery: the mark's tx must be there, with its Alh and values end.
  Status CheckTruncationMark() const;
  // Discards the value bytes of txs (from, to]; adds what it gave back.
  Status PunchValues(uint64_t from, uint64_t to, uint64_t* released);
  Status ValueTruncated(const TxEntry& entry) const;

  const std::string dir_;
  StoreOptions opts_;
  FileSystem* fs_;

  std::vector<std::string> notes_;  // What recovery repaired; written only by Open.
  std::unique_ptr<FileLock> lock_;
  std::unique_ptr<Appendable> txlog_;
  std::unique_ptr<Appendable> vlog_file_;  // Format 1 only: the separate value log.
  // Where values go: vlog_file_ (format 1) or the tx log itself (format 2,
  // each tx's values just before its tx record).
  Appendable* vlog_ = nullptr;
  bool shared_vlog() const { return vlog_ == txlog_.get(); }
  // Mapped reads of vlog_'s files (StoreOptions::value_map_bytes); created
  // after recovery, which may cut the files. Not used after Close.
  std::unique_ptr<ValueMap> value_map_;
  std::atomic<bool> map_values_{false};
  int format_ = 3;  // Of the marker (store.md).
  // Format 3: each tx's values carry a length frame and the commit log is
  // synced lazily (kClogLazyTxs).
  bool framed() const { return format_ >= 3; }
  std::unique_ptr<Appendable> clog_;
  std::unique_ptr<AHTree> aht_;
  // Headers read and checked by ReadTxHeader.
  mutable HeaderCache headers_;

  // Commit queue. One writer at a time leads (leading_). Waiters sleep on a
  // futex word chosen by the number (mod 3) of the batch they are or expect
  // to be in, so publishing a batch wakes its writers only. A leader that
  // leaves writers queued sets lead_wanted_ and wakes one of them, which
  // claims it. At most two batches are in flight (one being synced, one
  // being written), so queued writers never share a word with them.
  std::mutex mu_;
  std::deque<Writer*> writers_;
  bool leading_ = false;  // Guarded by mu_.
  // Batches taken, not yet published: raised under mu_, lowered without it.
  std::atomic<uint64_t> inflight_{0};
  std::atomic<uint64_t> batches_taken_{0};  // Written under mu_.
  // Batches written and not yet published (deeper pipelines measured no
  // faster: the rounds already coalesce).
  static constexpr uint64_t kMaxInflight = 2;
  static constexpr uint64_t kWords = kMaxInflight + 1;
  std::atomic<uint32_t> done_words_[kWords] = {};
  // Batch no lives in batches_[no % kWords]: reused once batch no - kWords is
  // published, which taking batch no waits for.
  Batch batches_[kWords];
  std::atomic<uint32_t> sleepers_{0};  // Writers in WaitCommittedOrLead.
  std::atomic<uint64_t> stat_batches_{0}, stat_txs_{0}, stat_sync_rounds_{0}, stat_sync_ns_{0};
  std::atomic<uint32_t> lead_wanted_{0};
  // A writer leading for the queue found no slot free for the next batch and
  // stopped leading: the thread that publishes the oldest batch takes the
  // leadership (TakeLeadAfterPublish) or hands it over (UnparkLead).
  // leading_ stays true meanwhile. Set under mu_.
  std::atomic<bool> lead_parked_{false};
  std::atomic<uint64_t> stat_publisher_leads_{0};
  Status bg_error_;      // Sticky after a failed write or sync. Guarded by mu_.
  bool closed_ = false;  // Guarded by mu_.

  // The commit thread (started by the first CommitAsync) leads for queued
  // CommitAsync writers, which have no thread of their own to lead with.
  std::mutex async_mu_;
  std::condition_variable async_cv_;
  std::thread async_thread_;  // Guarded by async_mu_.
  bool async_lead_ = false;   // Leadership handed to it. Guarded by async_mu_.
  bool async_stop_ = false;   // Guarded by async_mu_.

  // Batches publish in the order they were taken.
  std::mutex pub_mu_;
  std::condition_variable pub_cv_;
  // Batches published, read without pub_mu_ where it is enough to see that a
  // batch is published. Waiters on pub_cv_ count themselves in pub_waiters_
  // before they check published_ under pub_mu_; a publisher stores it, then
  // takes pub_mu_ and notifies only when it sees a waiter (both sequentially
  // consistent: either the publisher sees the count or the waiter sees the
  // new value).
  std::atomic<uint64_t> published_{0};
  std::atomic<uint32_t> pub_waiters_{0};
  // Waits under pub_mu_ until done() holds (it reads published_).
  template <typename Pred>
  void WaitPublished(Pred done) {
    pub_waiters_.fetch_add(1);
    {
      std::unique_lock<std::mutex> p(pub_mu_);
      pub_cv_.wait(p, done);
    }
    pub_waiters_.fetch_sub(1);
  }
  std::mutex sync_mu_;  // One round of fsyncs at a time (syncer_).
  // Per log (tx, commit, value): the highest FlushForSync ticket a finished
  // round covered. Guarded by sync_mu_.
  uint64_t synced_ticket_[3] = {0, 0, 0};
  uint64_t& SyncedTicket(const Appendable* log) {
    return synced_ticket_[log == txlog_.get() ? 0 : log == clog_.get() ? 1 : 2];
  }

  // Synced stores: committers append under append_mu_ to the open batch,
  // batches_[open_round_ % kWords]; rounds take it in turn (the round token:
  // 1 while a round runs or its holder looks for the next one).
  std::mutex append_mu_;
  uint64_t open_round_ = 0;  // Guarded by append_mu_.
  // The last tx appended (raised under append_mu_), and the last one a round
  // took (raised under append_mu_ by the token holder).
  std::atomic<uint64_t> appended_id_{0}, rounded_id_{0};
  std::atomic<uint32_t> round_token_{0};

  // Owned by the leader (only one at a time); in synced stores guarded by
  // append_mu_.
  uint64_t last_id_ = 0;
  Hash last_alh_{};
  int64_t last_ts_ = 0;
  std::string scratch_;
  // Every tx <= durable_id_ is durable in all logs but the AHT. Written by
  // stage B, read by the leader.
  std::atomic<uint64_t> durable_id_{0};
  uint64_t aht_synced_ = 0;  // AHT leaves durable as of the last AHT sync.
  // The AHT's bytes at aht_->Size() and at aht_synced_ leaves, as last asked.
  AhtBytes aht_bytes_, aht_synced_bytes_;
  // The leaves of the AHT sync last handed to the background syncer
  // (leader), and the leaves it made durable (written by the syncer).
  uint64_t aht_sync_asked_ = 0;
  std::atomic<uint64_t> aht_bg_synced_{0};
  // The leader's AHT Sync and the syncer's AHT SyncFlushed, one at a time
  // (not sync_mu_: a synced store's rounds must not wait for the AHT).
  std::mutex aht_sync_mu_;
  // Format 3: every commit record <= clog_durable_id_ is durable (written by
  // stage B); the leader's marks of the last batch that synced the commit log.
  std::atomic<uint64_t> clog_durable_id_{0};
  uint64_t clog_mark_id_ = 0;
  uint64_t clog_mark_bytes_ = 0;
  uint64_t last_sync_ = 0;  // CoarseMonotonicNs() of the last unsynced-mode sync.
  ParallelRunner syncer_{3};

  // Background syncer (unsynced mode). The bg_* fields are guarded by bg_mu_.
  std::mutex bg_mu_;
  std::condition_variable bg_cv_;
  std::thread bg_thread_;
  bool bg_stop_ = false;
  uint64_t bg_tickets_[3] = {0, 0, 0};  // Per log as synced_ticket_: highest pending.
  uint64_t bg_last_id_ = 0;             // Last tx of the newest batch pending; 0: none.
  uint64_t bg_clog_last_id_ = 0;        // Same, of the newest that registered the commit log.
  uint64_t bg_aht_upto_ = 0;            // AHT leaves of a pending AHT sync; 0: none.

  // The most recently published txs (no values), for ReadTxsFollowing: a
  // ring of kRecentTxs slots (grown up to that on first use), tx id in slot
  // (id - recent_base_) % kRecentTxs. It holds the recent_count_ txs from
  // id recent_first_ on. Guarded by recent_mu_. A tx is immutable once in
  // the ring: readers (ReadTxsFollowingShared) share it.
  static constexpr size_t kRecentTxs = 16384;
  // ... and at most this many entries in all (more only in its newest tx):
  // 16384 1-entry txs fit, 64 txs of 1000 entries do.
  static constexpr size_t kRecentEntries = 65536;
  // Txs after keep_after_ (those the reader that follows the log has not
  // read yet) stay past kRecentEntries, up to this many entries in all
  // (KeepRecentTxsAfter): 128 writers of 1000-entry txs, each waiting for
  // the index, leave up to 128,000 entries unread.
  static constexpr size_t kRecentKeptEntries = 262144;
  mutable std::atomic<uint64_t> keep_after_{UINT64_MAX};
  mutable std::mutex recent_mu_;
  std::vector<std::shared_ptr<Tx>> recent_;
  uint64_t recent_base_ = 0;
  uint64_t recent_first_ = 0;
  size_t recent_count_ = 0;
  size_t recent_entries_ = 0;  // Of the recent_count_ txs.

  // Truncation: values of txs <= truncated_upto_ are discarded; they lie
  // below value log offset truncated_voff_ (values are appended in tx order).
  // Both are raised (under trunc_mu_) once the mark naming them is durable.
  std::mutex trunc_mu_;  // One truncation at a time; Close waits for it.
  std::atomic<uint64_t> truncated_upto_{0};
  std::atomic<uint64_t> truncated_voff_{0};
  TruncationMark trunc_mark_;  // As on disk. Guarded by trunc_mu_ after open.

  // What readers see: the last committed tx.
  std::atomic<uint64_t> committed_id_{0};
  mutable std::mutex state_mu_;
  Hash committed_alh_{};                      // Guarded by state_mu_.
  bool state_closed_ = false;                 // Guarded by state_mu_.
  mutable std::condition_variable state_cv_;  // Signalled on every commit and on close.

  // Unsynced stores: writers spinning for their commit before they sleep
  // (SpinForCommit). Written only by waiting writers, on a line of its own.
  alignas(64) std::atomic<uint32_t> spinners_{0};
};

}  // namespace immudb::store
