// Commit path: validation, per-writer hashing, and the group commit that makes
// a whole batch of transactions durable with one round of fsyncs.
#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <ctime>
#include <functional>
#include <string_view>
#include <thread>

#include "ahtree/ahtree_format.h"
#include "htree/htree.h"
#include "store/store_impl.h"
#include "util/coding.h"
#include "util/crc32c.h"
#include "util/seen_keys.h"

namespace immudb::store {

Status StoreImpl::ValidateEntries(const std::vector<EntrySpec>& entries) const {
  if (entries.empty()) return Status::InvalidArgument("no entries in transaction");
  if (entries.size() > opts_.max_tx_entries) {
    return Status::InvalidArgument("max number of entries per tx exceeded (" +
                                   std::to_string(entries.size()) + " > " +
                                   std::to_string(opts_.max_tx_entries) + ")");
  }
  SeenKeys keys(entries.size());
  for (const EntrySpec& e : entries) {
    if (e.key.empty()) return Status::InvalidArgument("key is empty");
    if (e.key.size() > opts_.max_key_len || e.key.size() > 0xffff) {
      return Status::InvalidArgument("max key length exceeded");
    }
    if (e.value.size() > opts_.max_value_len || e.value.size() > 0xffffffffull) {
      return Status::InvalidArgument("max value length exceeded");
    }
    if (keys.Repeats(e.key)) return Status::InvalidArgument("duplicate key in transaction");
  }
  return Status::OK();
}

namespace {

// The header version of a new tx. Version 0 keeps old SDKs verifying
// (proofs.md §9 rule 2); it cannot carry metadata or more than 65535 entries.
uint16_t VersionFor(const std::vector<EntrySpec>& entries) {
  bool has_md = false;
  for (const EntrySpec& e : entries) has_md |= !e.md.empty();
  return (has_md || entries.size() > 0xffff) ? 1 : 0;
}

// Takes `mu`, spinning briefly first: an append holds it for about 2 µs, less
// than a sleep and a wake-up of the thread that waits.
void LockSpinning(std::mutex& mu) {
  // A few µs of `pause`. With 128 synced writers on 2 vCPUs, blocking at
  // once made 3x the involuntary context switches; 1000 spins burnt more
  // CPU than they saved (docs/benchmarks.md).
  constexpr int kSpins = 100;
  for (int i = 0; i < kSpins; i++) {
    if (mu.try_lock()) return;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
  mu.lock();
}

}  // namespace

Result<TxHeader> StoreImpl::Commit(std::vector<EntrySpec> entries) {
  IMMUDB_RETURN_IF_ERROR(ValidateEntries(entries));
  Writer w;
  w.version = VersionFor(entries);
  return Enqueue(&w, std::move(entries));
}

Result<TxHeader> StoreImpl::CommitReusing(std::vector<EntrySpec>* entries) {
  IMMUDB_RETURN_IF_ERROR(ValidateEntries(*entries));
  Writer w;
  w.version = VersionFor(*entries);
  Result<TxHeader> h = Enqueue(&w, std::move(*entries));
  // Enqueue returns once no leader uses the writer: its entries are ours
  // again (empty when Prepare refused them).
  *entries = std::move(w.specs);
  return h;
}

Result<TxHeader> StoreImpl::CommitExported(const TxHeader& header, std::vector<EntrySpec> entries) {
  IMMUDB_RETURN_IF_ERROR(ValidateEntries(entries));
  if (header.version > 1) return Status::InvalidArgument("unsupported tx header version");
  if (header.nentries != entries.size()) {
    return Status::InvalidArgument("tx header counts " + std::to_string(header.nentries) +
                                   " entries, the tx has " + std::to_string(entries.size()));
  }
  Writer w;
  w.version = header.version;
  w.exported = &header;
  return Enqueue(&w, std::move(entries));
}

Status StoreImpl::Prepare(Writer* w, std::vector<EntrySpec> entries) {
  const size_t n = entries.size();
  // Small txs keep their hashes in the writer and on the stack: no allocation.
  Hash* hvals = w->small_hvals;
  if (n > Writer::kSmallTx) {
    w->hvals.resize(n);
    hvals = w->hvals.data();
  }
  Hash small_digests[Writer::kSmallTx];
  std::vector<Hash> heap_digests;
  Hash* digests = small_digests;
  if (n > Writer::kSmallTx) {
    heap_digests.resize(n);
    digests = heap_digests.data();
  }
  for (size_t i = 0; i < n; i++) {
    const EntrySpec& e = entries[i];
    if (w->version == 0 && !e.md.empty()) {
      return Status::InvalidArgument("a version 0 tx cannot carry KV metadata");
    }
    // A 1-entry tx's Eh is its entry's leaf hash (proofs.md §2.2).
    IMMUDB_RETURN_IF_ERROR(EntryHashes(w->version, e.key, e.md, e.value, &hvals[i], &digests[i],
                                       n == 1 ? &w->eh : nullptr));
  }
  if (n > 1) w->eh = HTreeRoot(std::span<const Hash>(digests, n));
  if (w->exported != nullptr && w->eh != w->exported->eh) {
    return Status::InvalidArgument("the entries do not hash to the tx header's Eh");
  }
  w->specs = std::move(entries);
  return Status::OK();
}

Result<TxHeader> StoreImpl::Enqueue(Writer* wp, std::vector<EntrySpec> entries) {
  Writer& w = *wp;
  IMMUDB_RETURN_IF_ERROR(Prepare(&w, std::move(entries)));
  if (appending_committers()) return EnqueueSynced(&w);
  std::unique_lock<std::mutex> l(mu_);
  IMMUDB_RETURN_IF_ERROR(RefusesWrites());
  writers_.push_back(&w);
  if (!leading_) {
    leading_ = true;
    w.lead = true;
    // A slot for the batch is free (the common case when alone): take the
    // batch under this same lock.
    if (published_.load(std::memory_order_acquire) + kMaxInflight >
        batches_taken_.load(std::memory_order_relaxed)) {
      Lead(&w, &l);
    } else {
      l.unlock();
      Lead(&w);
    }
  } else {
    l.unlock();
  }
  // Queued, or back from leading: a writer that claimed the leadership after
  // another leader had already taken it into a batch returns from Lead
  // before that batch is published.
  while (w.state.load(std::memory_order_acquire) != Writer::kDone) {
    if (!WaitCommittedOrLead(&w)) Lead(&w);
  }
  if (!w.status.ok()) return w.status;
  return w.header;
}

void StoreImpl::CommitAsync(std::vector<EntrySpec> entries, CommitCallback done) {
  Status s = ValidateEntries(entries);
  auto w = std::make_unique<Writer>();
  if (s.ok()) {
    w->version = VersionFor(entries);
    s = Prepare(w.get(), std::move(entries));
  }
  if (!s.ok()) {
    done(s);
    return;
  }
  w->done = std::move(done);
  if (appending_committers()) {
    s = AppendToOpenBatch(w.get());
    if (!s.ok()) {
      w->done(s);
      return;
    }
    w.release();  // The round that publishes it runs `done` and deletes it.
    RoundsAfterAppend(nullptr);
    return;
  }
  bool lead = false;
  {
    std::lock_guard<std::mutex> l(mu_);
    s = RefusesWrites();
    if (s.ok()) {
      writers_.push_back(w.release());
      if (!leading_) lead = leading_ = true;
    }
  }
  if (!s.ok()) {
    w->done(s);
    return;
  }
  if (!lead) return;
  if (CommitHere* here = CommitHere::Current()) {
    here->Defer([this] { Lead(nullptr); });
    return;
  }
  WakeCommitThread();
}

Result<TxHeader> StoreImpl::EnqueueSynced(Writer* w) {
  IMMUDB_RETURN_IF_ERROR(AppendToOpenBatch(w));
  RoundsAfterAppend(w);
  while (w->state.load(std::memory_order_acquire) != Writer::kDone) WaitCommittedOrLead(w);
  if (!w->status.ok()) return w->status;
  return w->header;
}

Status StoreImpl::AppendToOpenBatch(Writer* w) {
  LockSpinning(append_mu_);
  std::unique_lock<std::mutex> a(append_mu_, std::adopt_lock);
  for (;;) {
    {
      std::lock_guard<std::mutex> l(mu_);
      IMMUDB_RETURN_IF_ERROR(RefusesWrites());
    }
    if (batches_[open_round_ % kWords].writers.size() < opts_.max_group_commit_txs) break;
    // The open batch is full: a round takes it first (which bounds what one
    // round adds to the AHT and the commit log: their torn windows).
    a.unlock();
    if (TakeRoundToken()) {
      RunRoundAndRelease();
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    LockSpinning(append_mu_);
    a = std::unique_lock<std::mutex>(append_mu_, std::adopt_lock);
  }
  Batch& open = batches_[open_round_ % kWords];
  Status s = AppendTx(w, NowUnixSeconds(), &open);
  if (!s.ok()) {
    // The logs may hold part of the tx: nothing more can be appended.
    std::lock_guard<std::mutex> l(mu_);
    if (bg_error_.ok()) bg_error_ = s;
    return s;
  }
  IMMUDB_RETURN_IF_ERROR(w->status);  // An exported tx that does not chain.
  open.writers.push_back(w);
  w->batch_no.store(open.no, std::memory_order_release);
  // Sequentially consistent with the token's release (ReleaseRoundToken):
  // the releaser sees this tx, or this appender sees the token free.
  appended_id_.store(last_id_);
  return Status::OK();
}

void StoreImpl::RoundsAfterAppend(Writer* self) {
  // Token taken: the holder's round, or its next one, covers this tx.
  if (!TakeRoundToken()) return;
  if (self == nullptr) {
    WakeCommitThread();
    return;
  }
  // self's tx was appended before the token was taken: the round covers it.
  RunRoundAndRelease();
}

bool StoreImpl::TakeRoundToken() {
  uint32_t free = 0;
  return round_token_.load() == 0 && round_token_.compare_exchange_strong(free, 1);
}

void StoreImpl::RunRoundAndRelease() {
  RunRound();
  // Rounds for txs appended meanwhile go to the commit thread, so that this
  // thread returns now (a writer alone never hands over).
  if (ReleaseRoundToken()) WakeCommitThread();
}

bool StoreImpl::ReleaseRoundToken() {
  if (RoundPending()) return true;
  round_token_.store(0);
  // An appender that saw the token still taken relies on its holder: look
  // once more after the release (sequentially consistent with its store of
  // appended_id_), and take the token back if it did not.
  return RoundPending() && TakeRoundToken();
}

void StoreImpl::RunRoundsOnCommitThread() {
  do {
    while (RunRound()) {
    }
  } while (ReleaseRoundToken());
}

bool StoreImpl::RunRound() {
  Batch* batch;
  {
    LockSpinning(append_mu_);
    std::lock_guard<std::mutex> a(append_mu_, std::adopt_lock);
    batch = &batches_[open_round_ % kWords];
    if (batch->writers.empty()) return false;
    // The slot of round open_round_ + 1 last held round open_round_ - 2,
    // published before this round began: it can be reused.
    open_round_++;
    batches_[open_round_ % kWords].Reset(open_round_);
    // In flight before it is no longer pending: Close reads the two the
    // other way round (both sequentially consistent).
    inflight_.fetch_add(1);
    rounded_id_.store(last_id_);
    {
      std::lock_guard<std::mutex> l(mu_);
      batch->status = bg_error_;
    }
    // Sets the batch's last tx; a failure reaches the store's error state
    // in SyncAndPublish.
    if (batch->status.ok()) batch->status = FinishBatchWrite(batch);
  }
  SyncAndPublish(batch);
  return true;
}

void StoreImpl::WakeCommitThread() {
  {
    std::lock_guard<std::mutex> a(async_mu_);
    async_lead_ = true;
    if (!async_thread_.joinable()) async_thread_ = std::thread([this] { CommitThreadLoop(); });
  }
  async_cv_.notify_one();
}

void StoreImpl::CommitThreadLoop() {
  pthread_setname_np(pthread_self(), "immudb-commit");
  std::unique_lock<std::mutex> a(async_mu_);
  for (;;) {
    async_cv_.wait(a, [this] { return async_lead_ || async_stop_; });
    if (async_lead_) {
      async_lead_ = false;
      a.unlock();
      if (appending_committers()) {
        RunRoundsOnCommitThread();
      } else {
        Lead(nullptr);
      }
      a.lock();
      continue;
    }
    return;  // Stopping, and not leading.
  }
}

namespace {

void FutexWait(std::atomic<uint32_t>* word, uint32_t expected) {
  static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t));
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT_PRIVATE, expected, nullptr,
          nullptr, 0);
}

void FutexWake(std::atomic<uint32_t>* word, int count) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE_PRIVATE, count, nullptr, nullptr,
          0);
}

}  // namespace

void StoreImpl::SpinForCommit(const Writer* self) {
  // An unsynced commit takes a few µs of its leader's time, less than a futex
  // sleep and wake-up cost on a virtual CPU; the waiter's CPU is idle anyway
  // while it waits. One spinner at a time, and none on a single CPU (it would
  // take the CPU the leader needs); the others sleep at once. Synced stores
  // never spin: their writers wait for an fsync.
  static const uint32_t max_spinners = std::thread::hardware_concurrency() > 1 ? 1 : 0;
  constexpr auto kSpinFor = std::chrono::microseconds(40);
  // With many writers waiting, a waiter's commit is batches away and the
  // woken writers need both CPUs: spinning then cost 128 writers 40% of their
  // rate (fillnosync, 134,129 -> 77,675 tx/s).
  constexpr uint32_t kSpinMaxWaiters = 8;
  if (sleepers_.load(std::memory_order_relaxed) >= kSpinMaxWaiters) return;
  if (spinners_.fetch_add(1, std::memory_order_acq_rel) >= max_spinners) {
    spinners_.fetch_sub(1, std::memory_order_relaxed);
    return;
  }
  const auto deadline = std::chrono::steady_clock::now() + kSpinFor;
  for (uint32_t i = 1;; i++) {
    if (self->state.load(std::memory_order_acquire) == Writer::kDone) break;
    if (lead_wanted_.load(std::memory_order_acquire) != 0) break;
    if (i % 32 == 0 && std::chrono::steady_clock::now() >= deadline) break;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
  spinners_.fetch_sub(1, std::memory_order_release);
}

bool StoreImpl::WaitCommittedOrLead(Writer* self) {
  if (!opts_.synced) SpinForCommit(self);
  // Counted as a possible sleeper for the whole wait, so publishers may skip
  // the wake-up call when nobody waits (sequentially consistent with their
  // bump of the word: either they see this count or this reads their bump).
  sleepers_.fetch_add(1);
  struct Uncount {
    std::atomic<uint32_t>* n;
    ~Uncount() { n->fetch_sub(1); }
  } uncount{&sleepers_};
  for (;;) {
    // Not yet taken, this writer will be in batch batches_taken_ or later
    // (later only past the batch limit: that batch's wake-up sends it back
    // here to wait for the next one). batches_taken_ is read first: a leader
    // sets batch_no before it publishes the new count.
    const uint64_t taken = batches_taken_.load(std::memory_order_acquire);
    const uint64_t mine = self->batch_no.load(std::memory_order_acquire);
    std::atomic<uint32_t>& word = done_words_[(mine != Writer::kNoBatch ? mine : taken) % kWords];
    const uint32_t seq = word.load();
    if (self->state.load(std::memory_order_acquire) == Writer::kDone) return true;
    if (auto* hook = test_before_lead_claim.load(std::memory_order_relaxed)) hook();
    if (mine == Writer::kNoBatch && lead_wanted_.load(std::memory_order_acquire) != 0 &&
        lead_wanted_.exchange(0, std::memory_order_acq_rel) != 0) {
      return false;
    }
    // Returns at once if the word moved since it was read, so no wake-up
    // published after the checks above is lost.
    FutexWait(&word, seq);
  }
}

void StoreImpl::HandOver(bool to_commit_thread, uint64_t next_batch) {
  if (to_commit_thread) {
    WakeCommitThread();
    return;
  }
  // Writers not yet in a batch wait on the word of the next batch.
  lead_wanted_.store(1, std::memory_order_release);
  std::atomic<uint32_t>& next = done_words_[next_batch % kWords];
  next.fetch_add(1, std::memory_order_release);
  FutexWake(&next, 1);
}

void StoreImpl::Lead(Writer* self, std::unique_lock<std::mutex>* held) {
  // After its own batch, a writer whose batch had no fsync to wait for leads
  // up to this many more batches itself: with nothing to overlap, handing
  // leadership over would only cost a wake-up per batch.
  constexpr int kLeadOnBatches = 4;
  int lead_on_left = kLeadOnBatches;
  // A writer that has published its batch takes up to this many more
  // batches itself (TakeLeadAfterPublish), each handed over as its own; its
  // commit returns that much later (about two batch cycles each).
  constexpr int kPublisherLeads = 8;
  int publisher_leads_left = kPublisherLeads;
  // self's batch is published, or another leader took self into its batch;
  // leading on.
  bool own_done = false;
  // The next batch is one this thread took after publishing its own: it is
  // handed over and published like the thread's own batch.
  bool taken_after_publish = false;
  for (;;) {
    std::unique_lock<std::mutex> l;
    if (held != nullptr) {
      l = std::move(*held);  // Checked by the caller: a slot is free.
      held = nullptr;
    } else {
      // At most kMaxInflight batches in flight (no lock when a slot is free:
      // published_ only grows).
      const uint64_t next = batches_taken_.load(std::memory_order_relaxed);
      if (published_.load(std::memory_order_acquire) + kMaxInflight <= next) {
        if (self == nullptr) {
          // The commit thread waits for the oldest batch to publish.
          WaitPublished([&] { return published_.load() + kMaxInflight > next; });
        } else {
          // A writer parks the leadership instead: the thread that publishes
          // the oldest batch is running, and takes the next batch at once
          // (TakeLeadAfterPublish), where a sleeping leader would first have
          // to be woken and get a CPU. This writer waits as a queued one.
          l = std::unique_lock<std::mutex>(mu_);
          if (published_.load() + kMaxInflight <= batches_taken_.load(std::memory_order_relaxed)) {
            if (writers_.empty()) {
              leading_ = false;  // Nobody left to lead for.
              return;
            }
            // Park first, then look at published_ again. The publisher
            // stores published_ and then loads lead_parked_ (without mu_),
            // all sequentially consistent: at least one of the two sees the
            // other's store, so a publication that came before the park
            // cannot leave the leadership parked with nobody to take it.
            lead_parked_.store(true);
            if (published_.load() + kMaxInflight <=
                batches_taken_.load(std::memory_order_relaxed)) {
              return;
            }
            // The slot came free meanwhile: lead on. A publisher that saw the
            // park takes mu_ before it acts on it and finds it undone.
            lead_parked_.store(false);
          }
          l.unlock();  // The slot came free meanwhile.
        }
      }
      l = std::unique_lock<std::mutex>(mu_);
    }
    if (self != nullptr && !own_done &&
        self->batch_no.load(std::memory_order_relaxed) != Writer::kNoBatch) {
      // Another leader took self into its batch between self's last look at
      // its batch number and its claim of the handed-over leadership. Self
      // is the leader now: it leads for the queue as after its own batch
      // (never waiting for a batch of its own to come by), and the caller
      // waits for self's batch.
      own_done = true;
    }
    if ((self == nullptr || own_done) && writers_.empty()) {
      leading_ = false;
      return;
    }
    if (own_done && lead_on_left == 0) {
      const bool to_commit_thread = writers_.front()->done != nullptr;
      const uint64_t next = batches_taken_.load(std::memory_order_relaxed);
      l.unlock();
      HandOver(to_commit_thread, next);
      return;
    }
    // The slot of batch no - kWords, published before this one could be
    // taken (at most kMaxInflight in flight); its vectors keep their capacity.
    const uint64_t no = batches_taken_.load(std::memory_order_relaxed);
    Batch& batch = batches_[no % kWords];
    batch.Reset(no);
    for (Writer* x : writers_) {
      batch.writers.push_back(x);
      x->batch_no.store(batch.no, std::memory_order_relaxed);
      if (batch.writers.size() >= opts_.max_group_commit_txs) break;
    }
    batches_taken_.store(batch.no + 1, std::memory_order_release);
    inflight_.fetch_add(1, std::memory_order_relaxed);
    batch.status = bg_error_;
    if (batch.status.ok()) {
      l.unlock();
      batch.status = WriteBatch(&batch);
      l.lock();
      if (!batch.status.ok() && bg_error_.ok()) bg_error_ = batch.status;
    }
    for (size_t i = 0; i < batch.writers.size(); i++) writers_.pop_front();
    // A batch with no fsync of its own, whose predecessors are all published,
    // takes the store's error state now, under this lock, instead of in
    // SyncAndPublish (no earlier batch can fail any more).
    if (batch.tickets.empty() && batch.aht_sync_upto == 0 &&
        published_.load(std::memory_order_acquire) == batch.no) {
      if (batch.status.ok()) batch.status = bg_error_;
      batch.error_checked = true;
    }
    bool mine = taken_after_publish;
    taken_after_publish = false;
    if (!own_done) {
      for (Writer* x : batch.writers) mine |= x == self;
    }
    // In the batch: hand leadership over now, so the next batch is written
    // while this one syncs; or, when this batch waits for no fsync, lead on
    // (above). Not in it (past the batch limit): lead on.
    const bool no_fsync = batch.status.ok() && (batch.tickets.empty() || batch.background_sync);
    const bool lead_on = mine && !writers_.empty() && no_fsync;
    const bool handoff = mine && !writers_.empty() && !lead_on;
    if (mine && writers_.empty()) leading_ = false;  // Nobody left to lead for.
    // The next leader: the first queued writer's thread, or the commit
    // thread when that writer has none (CommitAsync).
    const bool to_commit_thread = handoff && writers_.front()->done != nullptr;
    l.unlock();
    if (handoff) HandOver(to_commit_thread, batch.no + 1);
    SyncAndPublish(&batch);
    if (lead_on) {
      own_done = true;
    } else if (mine) {
      if (publisher_leads_left > 0 && TakeLeadAfterPublish()) {
        publisher_leads_left--;
        stat_publisher_leads_.fetch_add(1, std::memory_order_relaxed);
        own_done = true;
        taken_after_publish = true;
        continue;
      }
      UnparkLead();
      return;
    } else if (own_done) {
      lead_on_left--;
    }
  }
}

bool StoreImpl::TakeLeadAfterPublish() {
  // Only with many writers queued: the publisher's own next commit waits
  // while it leads, which costs few writers a share of their rate (8 synced
  // writers: 12% less) and 128 writers hardly any.
  constexpr size_t kMinQueued = 32;
  if (lead_wanted_.load(std::memory_order_acquire) == 0 && !lead_parked_.load()) return false;
  std::lock_guard<std::mutex> l(mu_);
  if (writers_.size() < kMinQueued) return false;
  // A leadership handed over (HandOver) that no queued writer has claimed yet
  // is still on its way to a sleeping thread: claimed here instead (that
  // writer, once awake, finds it gone and waits on).
  if (lead_wanted_.load(std::memory_order_acquire) != 0 &&
      lead_wanted_.exchange(0, std::memory_order_acq_rel) != 0) {
    return true;
  }
  // A leader parked for want of the slot this publication freed.
  if (!lead_parked_.load()) return false;
  lead_parked_.store(false);
  return true;
}

void StoreImpl::UnparkLead() {
  // Whoever published a batch must not leave the leadership parked: a
  // publisher that does not take it hands it over.
  if (!lead_parked_.load()) return;
  std::unique_lock<std::mutex> l(mu_);
  if (!lead_parked_.load()) return;
  lead_parked_.store(false);
  if (writers_.empty()) {
    leading_ = false;
    return;
  }
  const bool to_commit_thread = writers_.front()->done != nullptr;
  const uint64_t next = batches_taken_.load(std::memory_order_relaxed);
  l.unlock();
  HandOver(to_commit_thread, next);
}

void StoreImpl::SyncAndPublish(Batch* batch) {
  Status s = batch->status;
  if (s.ok() && (batch->background_sync || batch->aht_sync_upto > 0)) {
    ScheduleBackgroundSync(*batch);
  }
  // A synced batch runs its own round even when it also handed the AHT's
  // fsync to the background syncer.
  if (s.ok() && !batch->background_sync && !batch->tickets.empty()) {
    s = SyncTickets(batch->tickets);
    if (s.ok()) {
      Advance(&durable_id_, batch->last_id);
      if (batch->syncs_clog) Advance(&clog_durable_id_, batch->last_id);
    }
  }
  if (published_.load(std::memory_order_acquire) != batch->no) {
    WaitPublished([&] { return published_.load() == batch->no; });
  }
  if (!batch->error_checked) {
    // A failure of an earlier batch fails this one too: its txs chain on
    // txs that may not be durable.
    std::lock_guard<std::mutex> l(mu_);
    if (!s.ok() && bg_error_.ok()) bg_error_ = s;
    if (s.ok()) s = bg_error_;
  }
  if (s.ok() && batch->last_id != 0) {
    stat_batches_.fetch_add(1, std::memory_order_relaxed);
    stat_txs_.fetch_add(batch->ntxs, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> g(recent_mu_);
      for (size_t i = 0; i < batch->ntxs; i++) {
        std::shared_ptr<Tx>& tx = batch->txs[i];
        const uint64_t id = tx->header.id;
        if (recent_count_ == 0) recent_base_ = recent_first_ = id;
        const size_t slot = static_cast<size_t>((id - recent_base_) % kRecentTxs);
        const size_t entries = tx->entries.size();
        if (slot == recent_.size()) {
          recent_.push_back(std::move(tx));
        } else {
          // Swapped, not moved: the tx dropped from the ring goes to the
          // batch slot, which reuses its buffers for a later tx.
          std::swap(recent_[slot], tx);
        }
        recent_entries_ += entries;
        if (recent_count_ == kRecentTxs) {
          recent_entries_ -= tx->entries.size();  // The oldest, swapped out.
          recent_first_++;
        } else {
          recent_count_++;
        }
        // Large txs: the oldest leave early, so the ring's memory stays
        // bounded by entries as well as by txs (the newest always stays);
        // those the reader that follows the log has not read yet stay up to
        // a larger bound (KeepRecentTxsAfter).
        const uint64_t keep_after = keep_after_.load(std::memory_order_relaxed);
        while (recent_count_ > 1 &&
               (recent_entries_ > kRecentKeptEntries ||
                (recent_entries_ > kRecentEntries && recent_first_ <= keep_after))) {
          std::shared_ptr<Tx>& oldest =
              recent_[static_cast<size_t>((recent_first_ - recent_base_) % kRecentTxs)];
          recent_entries_ -= oldest->entries.size();
          oldest.reset();
          recent_first_++;
          recent_count_--;
        }
      }
    }
    {
      std::lock_guard<std::mutex> g(state_mu_);
      committed_alh_ = batch->last_alh;
      committed_id_.store(batch->last_id, std::memory_order_release);
    }
    state_cv_.notify_all();
  }
  // Publish every result, then wake the batch with one call. A writer may
  // return as soon as it sees kDone, so nothing touches it after that store
  // (the leader's own writer is only read by the leader, after this).
  std::vector<Writer*> async;
  for (Writer* x : batch->writers) {
    if (!s.ok()) x->status = s;
    if (x->done) {
      async.push_back(x);
    } else {
      x->state.store(Writer::kDone, std::memory_order_release);
    }
  }
  std::atomic<uint32_t>& done = done_words_[batch->no % kWords];
  done.fetch_add(1);
  if (sleepers_.load() > 0) FutexWake(&done, INT_MAX);
  inflight_.fetch_sub(1, std::memory_order_release);
  published_.store(batch->no + 1);
  if (pub_waiters_.load() > 0) {
    // Not between a waiter's check and its sleep.
    { std::lock_guard<std::mutex> p(pub_mu_); }
    pub_cv_.notify_all();
  }
  for (Writer* x : async) {
    std::unique_ptr<Writer> owned(x);
    if (x->status.ok()) {
      x->done(x->header);
    } else {
      x->done(x->status);
    }
  }
}

Status StoreImpl::WriteBatch(Batch* batch) {
  batch->crecs.clear();
  const int64_t now = NowUnixSeconds();
  for (Writer* w : batch->writers) IMMUDB_RETURN_IF_ERROR(AppendTx(w, now, batch));
  return FinishBatchWrite(batch);
}

int64_t StoreImpl::NowUnixSeconds() const {
  return opts_.now_unix_seconds ? opts_.now_unix_seconds()
                                : static_cast<int64_t>(std::time(nullptr));
}

Status StoreImpl::AppendTx(Writer* w, int64_t now, Batch* batch) {
  // Format 3: the commit records up to durable_upto must be durable too
  // (recovery trusts them), and the commit log is synced lazily.
  uint64_t durable = durable_id_.load(std::memory_order_acquire);
  if (framed()) durable = std::min(durable, clog_durable_id_.load(std::memory_order_acquire));
  TxHeader& h = w->header;
  h.id = last_id_ + 1;
  h.ts = now > last_ts_ ? now : last_ts_;
  h.version = w->version;
  h.nentries = static_cast<uint32_t>(w->specs.size());
  h.eh = w->eh;
  h.bl_tx_id = h.id - 1;
  if (h.bl_tx_id > 0) {
    IMMUDB_ASSIGN_OR_RETURN(
        h.bl_root, aht_->Size() == h.bl_tx_id ? aht_->LastRoot() : aht_->RootAt(h.bl_tx_id));
  } else {
    h.bl_root = ZeroHash();
  }
  h.prev_alh = last_alh_;
  if (w->exported != nullptr) {
    // Stored as exported, if it chains here; else only this writer fails.
    const TxHeader& x = *w->exported;
    if (x.id != h.id || x.bl_tx_id != h.bl_tx_id || x.bl_root != h.bl_root ||
        x.prev_alh != h.prev_alh) {
      w->status = Status::FailedPrecondition("exported tx " + std::to_string(x.id) +
                                             " does not chain onto this store (next tx " +
                                             std::to_string(h.id) + ")");
      return Status::OK();
    }
    if (x.ts < last_ts_) {
      w->status = Status::FailedPrecondition("exported tx " + std::to_string(x.id) +
                                             " has a timestamp before the last tx's");
      return Status::OK();
    }
    h.ts = x.ts;
  }

  if (framed()) {
    uint64_t values_len = 0;
    for (const EntrySpec& spec : w->specs) values_len += spec.value.size();
    uint8_t frame[kTxValuesFrameSize];
    PutU64BE(frame, values_len);
    IMMUDB_RETURN_IF_ERROR(
        txlog_->Append(std::string_view(reinterpret_cast<const char*>(frame), sizeof(frame)))
            .status());
  }
  // Serialize the tx record in place: prefix placeholder, header, entries.
  scratch_.assign(kTxRecordPrefixSize, '\0');
  EncodeTxHeader(h, &scratch_);
  if (batch->ntxs == batch->txs.size()) batch->txs.emplace_back();
  std::shared_ptr<Tx>& slot = batch->txs[batch->ntxs++];
  // The slot's tx left the ring: its buffers are free unless a reader
  // (ReadTxsFollowingShared) still holds it, and no one can take it
  // again. The fence orders the reader's last use (its release of the
  // tx) before our writes.
  if (slot == nullptr || slot.use_count() != 1) {
    slot = std::make_shared<Tx>();
  } else {
    std::atomic_thread_fence(std::memory_order_acquire);
  }
  Tx& tx = *slot;
  tx.entries.resize(w->specs.size());
  for (size_t i = 0; i < w->specs.size(); i++) {
    EntrySpec& spec = w->specs[i];
    TxEntry& e = tx.entries[i];
    IMMUDB_ASSIGN_OR_RETURN(e.voff, vlog_->Append(spec.value));
    e.vlen = static_cast<uint32_t>(spec.value.size());
    // Into the buffer the slot's earlier tx left when it is large enough,
    // else the writer's buffer is taken: no allocation either way.
    if (e.key.capacity() >= spec.key.size()) {
      e.key.assign(spec.key);
    } else {
      e.key = std::move(spec.key);
    }
    e.md = spec.md;
    e.hval = w->hval(i);
    EncodeTxEntry(e, &scratch_);
  }
  // Format 2 appends the record to the same log, right after the values.
  const uint64_t vlog_end = vlog_->Size();
  auto* prefix = reinterpret_cast<uint8_t*>(scratch_.data());
  const size_t payload_len = scratch_.size() - kTxRecordPrefixSize;
  PutU32BE(prefix, static_cast<uint32_t>(payload_len));
  PutU32BE(prefix + 4,
           crc32c::Mask(crc32c::Value(scratch_.data() + kTxRecordPrefixSize, payload_len)));
  IMMUDB_ASSIGN_OR_RETURN(uint64_t tx_off, txlog_->Append(scratch_));

  Hash inner, alh;
  IMMUDB_RETURN_IF_ERROR(h.InnerAndAlh(&inner, &alh));
  IMMUDB_RETURN_IF_ERROR(aht_->Append(alh).status());

  CommitRecord rec;
  rec.tx_id = h.id;
  rec.durable_upto = durable;
  rec.tx_off = tx_off;
  rec.tx_len = static_cast<uint32_t>(scratch_.size());
  rec.vlog_end = vlog_end;
  rec.alh = alh;
  uint8_t buf[kCommitRecordSize];
  EncodeCommitRecord(rec, buf);
  batch->crecs.append(reinterpret_cast<const char*>(buf), sizeof(buf));

  last_id_ = h.id;
  last_alh_ = alh;
  last_ts_ = h.ts;
  tx.header = h;
  return Status::OK();
}

Status StoreImpl::FinishBatchWrite(Batch* batch) {
  std::string& crecs = batch->crecs;
  // One round of fsyncs covers the whole batch: its commit records are
  // written with its data, and recovery checks every tx after durable_upto
  // (docs/format/store.md).
  if (crecs.empty()) return Status::OK();  // Only exported txs that did not chain.
  IMMUDB_RETURN_IF_ERROR(clog_->Append(crecs).status());
  bool sync = opts_.synced;
  if (!sync && opts_.unsynced_sync_interval_ms > 0) {
    // The coarse clock (a tick, some milliseconds) is enough for an interval
    // of milliseconds and costs less than a precise read on every batch.
    const uint64_t t = CoarseMonotonicNs();
    if (t - last_sync_ >= uint64_t{opts_.unsynced_sync_interval_ms} * 1000000) {
      sync = true;
      last_sync_ = t;
    }
  }
  // The AHT is derived from the Alh values of the commit log, and recovery
  // re-appends the leaves it lost (store.md): a batch neither writes nor
  // syncs it. It is written when its buffer fills; once half of kAhtLazyBytes
  // of it are unsynced, its fsync goes to the background syncer, and the
  // leader syncs it here only when the syncer has not finished by the time
  // kAhtLazyBytes are unsynced, which bounds its torn window. A synced store
  // did that fsync (about 1 MiB, a millisecond or more) in the leader's write
  // step, where it held up the batch's round and every writer behind it.
  const uint64_t aht_size = aht_->Size();
  aht_synced_ = std::max(aht_synced_, aht_bg_synced_.load(std::memory_order_acquire));
  const uint64_t aht_unsynced = aht_bytes_.At(aht_size) - aht_synced_bytes_.At(aht_synced_);
  if (aht_unsynced >= kAhtLazyBytes) {
    std::lock_guard<std::mutex> g(aht_sync_mu_);  // Not during the syncer's SyncFlushed.
    IMMUDB_RETURN_IF_ERROR(aht_->Sync());
    aht_synced_ = aht_size;
  } else if (aht_unsynced >= kAhtLazyBytes / 2 && aht_sync_asked_ <= aht_synced_) {
    IMMUDB_RETURN_IF_ERROR(aht_->FlushForSync());
    aht_sync_asked_ = aht_size;
    batch->aht_sync_upto = aht_size;
  }
  // Format 3: the tx log alone makes the batch durable (recovery re-derives
  // lost commit records from it); the commit log joins a round once
  // kClogLazyTxs txs or kClogLazyTxLogBytes were written since it last did,
  // which bounds what recovery reads.
  bool sync_clog = sync;
  if (sync && framed()) {
    sync_clog = last_id_ - clog_mark_id_ >= kClogLazyTxs ||
                txlog_->Size() - clog_mark_bytes_ >= kClogLazyTxLogBytes;
    if (sync_clog) {
      clog_mark_id_ = last_id_;
      clog_mark_bytes_ = txlog_->Size();
    }
  }
  batch->syncs_clog = sync_clog;
  // Everything reaches the files now (write(2)); stage B runs the fsyncs
  // while the next batch is written.
  for (Appendable* log : {txlog_.get(), clog_.get(), vlog_file_.get()}) {
    if (log == nullptr) continue;
    if (sync && (log != clog_.get() || sync_clog)) {
      IMMUDB_ASSIGN_OR_RETURN(uint64_t ticket, log->FlushForSync());
      batch->tickets.emplace_back(log, ticket);
    } else if (log != clog_.get() || !framed()) {
      IMMUDB_RETURN_IF_ERROR(log->Flush());
    }
    // Format 3: the commit log otherwise stays in its buffer until it fills
    // or a round syncs it: recovery re-derives what a crash loses from the
    // tx log, and reads are served from the buffer.
  }
  // Unsynced mode: its periodic sync runs on the background syncer, so no
  // committer waits for it.
  batch->background_sync = sync && !opts_.synced;
  batch->last_id = last_id_;
  batch->last_alh = last_alh_;
  return Status::OK();
}

Store::CommitStats StoreImpl::Stats() const {
  CommitStats c;
  c.batches = stat_batches_.load(std::memory_order_relaxed);
  c.txs = stat_txs_.load(std::memory_order_relaxed);
  c.sync_rounds = stat_sync_rounds_.load(std::memory_order_relaxed);
  c.sync_ns = stat_sync_ns_.load(std::memory_order_relaxed);
  c.publisher_leads = stat_publisher_leads_.load(std::memory_order_relaxed);
  if (aht_) {
    const AHTreeCacheStats a = aht_->CacheStats();
    c.aht_cache_bytes = a.block_cache_bytes;
    c.aht_cache_min_level = a.block_cache_min_level;
  }
  return c;
}

Status StoreImpl::SyncAll() {
  std::vector<std::function<Status()>> syncs = {[this] { return clog_->Sync(); },
                                                [this] { return txlog_->Sync(); },
                                                [this] { return aht_->Sync(); }};
  if (vlog_file_) syncs.push_back([this] { return vlog_file_->Sync(); });
  IMMUDB_RETURN_IF_ERROR(syncer_.Run(syncs));
  aht_synced_ = aht_->Size();
  return Status::OK();
}

Status StoreImpl::SyncTickets(const std::vector<std::pair<Appendable*, uint64_t>>& tickets) {
  // A round runs every fsync registered so far, so it covers the batches
  // written before it began: tickets a finished round covered need nothing.
  std::lock_guard<std::mutex> g(sync_mu_);
  std::vector<Appendable*> need;
  for (const auto& [log, ticket] : tickets) {
    if (SyncedTicket(log) < ticket) need.push_back(log);
  }
  if (need.empty()) return Status::OK();
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<uint64_t> got(need.size());
  std::vector<std::function<Status()>> fns;
  for (size_t i = 0; i < need.size(); i++) {
    fns.push_back([&need, &got, i]() -> Status {
      IMMUDB_ASSIGN_OR_RETURN(got[i], need[i]->SyncFlushed());
      return Status::OK();
    });
  }
  Status s = syncer_.Run(fns);
  if (s.ok()) {
    for (size_t i = 0; i < need.size(); i++) SyncedTicket(need[i]) = got[i];
  }
  stat_sync_rounds_.fetch_add(1, std::memory_order_relaxed);
  stat_sync_ns_.fetch_add(
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::steady_clock::now() - t0)
                                .count()),
      std::memory_order_relaxed);
  return s;
}

void StoreImpl::Advance(std::atomic<uint64_t>* mark, uint64_t to) {
  uint64_t d = mark->load(std::memory_order_relaxed);
  while (d < to && !mark->compare_exchange_weak(d, to, std::memory_order_release)) {
  }
}

void StoreImpl::ScheduleBackgroundSync(const Batch& batch) {
  {
    std::lock_guard<std::mutex> l(bg_mu_);
    if (batch.background_sync) {
      for (const auto& [log, ticket] : batch.tickets) {
        uint64_t& t = bg_tickets_[log == txlog_.get() ? 0 : log == clog_.get() ? 1 : 2];
        t = std::max(t, ticket);
      }
      bg_last_id_ = std::max(bg_last_id_, batch.last_id);
      if (batch.syncs_clog) bg_clog_last_id_ = std::max(bg_clog_last_id_, batch.last_id);
    }
    bg_aht_upto_ = std::max(bg_aht_upto_, batch.aht_sync_upto);
    if (!bg_thread_.joinable()) bg_thread_ = std::thread([this] { BackgroundSyncLoop(); });
  }
  bg_cv_.notify_one();
}

void StoreImpl::BackgroundSyncLoop() {
  Appendable* logs[3] = {txlog_.get(), clog_.get(), vlog_file_.get()};
  std::unique_lock<std::mutex> l(bg_mu_);
  for (;;) {
    bg_cv_.wait(l, [&] { return bg_stop_ || bg_last_id_ > 0 || bg_aht_upto_ > 0; });
    if (bg_last_id_ == 0 && bg_aht_upto_ == 0) return;  // Stopped with nothing left to sync.
    std::vector<std::pair<Appendable*, uint64_t>> tickets;
    for (int i = 0; i < 3; i++) {
      if (bg_tickets_[i] != 0 && logs[i] != nullptr) tickets.emplace_back(logs[i], bg_tickets_[i]);
    }
    const uint64_t last_id = bg_last_id_, clog_last_id = bg_clog_last_id_;
    const uint64_t aht_upto = bg_aht_upto_;
    std::fill(std::begin(bg_tickets_), std::end(bg_tickets_), 0);
    bg_last_id_ = bg_clog_last_id_ = bg_aht_upto_ = 0;
    l.unlock();
    Status s = SyncTickets(tickets);
    if (s.ok() && aht_upto > 0) {
      std::lock_guard<std::mutex> g(aht_sync_mu_);  // Not during the leader's AHT Sync.
      s = aht_->SyncFlushed().WithPrefix("AHT sync");
      if (s.ok()) aht_bg_synced_.store(aht_upto, std::memory_order_release);
    }
    if (s.ok()) {
      Advance(&durable_id_, last_id);
      if (clog_last_id > 0) Advance(&clog_durable_id_, clog_last_id);
    } else {
      // As after any failed fsync: every later commit fails until reopen.
      std::lock_guard<std::mutex> g(mu_);
      if (bg_error_.ok()) bg_error_ = s;
    }
    l.lock();
  }
}

void StoreImpl::StopBackgroundSync() {
  {
    std::lock_guard<std::mutex> l(bg_mu_);
    bg_stop_ = true;
  }
  bg_cv_.notify_one();
  if (bg_thread_.joinable()) bg_thread_.join();
}

}  // namespace immudb::store

namespace immudb {
namespace {
thread_local CommitHere* t_commit_here = nullptr;
}  // namespace

CommitHere::CommitHere() : outer_(t_commit_here) { t_commit_here = this; }

CommitHere::~CommitHere() {
  Lead();
  t_commit_here = outer_;
}

CommitHere* CommitHere::Current() { return t_commit_here; }

void CommitHere::Lead() {
  // A callback may queue more commits (and defer more batches): run until none.
  while (!deferred_.empty()) {
    std::vector<std::function<void()>> now;
    now.swap(deferred_);
    for (auto& lead : now) lead();
  }
}

}  // namespace immudb
