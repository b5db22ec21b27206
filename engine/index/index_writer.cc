// The indexer thread: turns committed transactions into index records.
#include <rocksdb/perf_level.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <chrono>

#include "index/index_format.h"
#include "index/index_impl.h"
#include "util/coding.h"

namespace immudb::index {

namespace {
// How long the indexer sleeps in Store::WaitForTx before checking for stop.
constexpr uint64_t kPollMs = 50;
// How long the indexer rests, not woken by commits, while waiters index the
// committed txs themselves: the most a tx nobody waits for then waits.
constexpr auto kRest = std::chrono::milliseconds(5);
}  // namespace

void Index::Rep::SetError(const Status& s) {
  {
    std::lock_guard<std::mutex> l(mu);
    error = s;
  }
  store->KeepRecentTxsAfter(UINT64_MAX);  // No more batches follow.
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

Result<bool> Index::Rep::IndexSomeForWaiter() {
  auto did = IndexSome();
  if (did.ok() && *did) waiter_batches.fetch_add(1, std::memory_order_relaxed);
  return did;
}

void Index::Rep::Run() {
  // Waiters (a synced Set, WaitFor) index their own tx as soon as it is
  // committed, mostly before this thread, woken by the same commit, gets
  // to it: it would then wake only to find its work done. So while waiters
  // have indexed batches since it last looked, it rests kRest, not woken by
  // commits, and then indexes whatever nobody waited for. When a rest saw no
  // waiter's batch it waits for the next commit again: a tx nobody waits
  // for is indexed at most kRest after its commit.
  uint64_t seen_waiter_batches = waiter_batches.load(std::memory_order_relaxed);
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
    const uint64_t waiters_now = waiter_batches.load(std::memory_order_relaxed);
    if (waiters_now != seen_waiter_batches) {
      seen_waiter_batches = waiters_now;
      std::unique_lock<std::mutex> l(mu);
      rest_cv.wait_for(l, kRest, [&] { return stop.load(); });
      continue;
    }
    const uint64_t next = indexed_upto.load() + 1;
    Status w = store->WaitForTx(next, kPollMs);
    if (!w.ok() && w.code() != StatusCode::kDeadlineExceeded) {
      // The store is closed: waiters get the reason instead of a timeout.
      SetError(w.WithPrefix("index"));
      return;
    }
    if (w.ok() && opts.gather_us > 0) {
      // Let the commits that follow join this one's batch. A waiter that
      // comes meanwhile indexes them itself (batch_mu is free).
      std::unique_lock<std::mutex> l(mu);
      rest_cv.wait_for(l, std::chrono::microseconds(opts.gather_us), [&] { return stop.load(); });
    }
  }
}

Status Index::Rep::ReadTxs(uint64_t from, uint64_t last,
                           std::vector<std::shared_ptr<const Tx>>* txs) {
  // Whole chunks from the store (recent ones straight from memory), until
  // the batch has enough txs or entries.
  constexpr size_t kChunk = 64;
  size_t entries = 0;
  uint64_t id = from;
  while (id <= last && txs->size() < opts.max_batch_txs && entries < opts.max_batch_entries) {
    const size_t before = txs->size();
    const size_t want = std::min<uint64_t>({kChunk, opts.max_batch_txs - before, last - id + 1});
    IMMUDB_RETURN_IF_ERROR(store->ReadTxsFollowingShared(id, want, txs));
    if (txs->size() == before) break;
    for (size_t i = before; i < txs->size(); i++) entries += (*txs)[i]->entries.size();
    id += txs->size() - before;
  }
  return Status::OK();
}

void IndexBatchScratch::Trim() {
  // Buffers of a usual batch stay; those a batch of many or large entries
  // grew (up to max_batch_entries, or one tx of max_tx_entries) go.
  constexpr size_t kKeepBytes = 4 << 20;
  constexpr size_t kKeepItems = 1 << 16;
  constexpr size_t kKeepBatchBytes = 8 << 20;
  txs.clear();
  if (txs.capacity() > kKeepItems / 8) std::vector<std::shared_ptr<const Tx>>().swap(txs);
  if (items.capacity() > kKeepItems) std::vector<Item>().swap(items);
  if (sorted.capacity() > kKeepItems) std::vector<Item>().swap(sorted);
  if (runs.capacity() > kKeepItems) std::vector<Run>().swap(runs);
  if (groups.capacity() > kKeepItems) std::vector<Group>().swap(groups);
  if (missing.capacity() > kKeepItems) std::vector<uint32_t>().swap(missing);
  if (history_order.capacity() > kKeepItems) std::vector<uint32_t>().swap(history_order);
  if (keys.capacity() > kKeepBytes) std::string().swap(keys);
  if (firsts.capacity() > kKeepBytes) std::string().swap(firsts);
  if (values.capacity() > kKeepBytes) std::string().swap(values);
  if (spans.capacity() > kKeepItems) std::vector<Span>().swap(spans);
  // The WriteBatch has a bound of its own: ReadTxs takes txs in chunks of
  // 64, so a batch of 1000-entry txs holds about 64,000 records (about
  // 5.6 MB with 16-byte keys). Dropped at 4 MiB, its buffer was regrown by
  // doubling, on freshly faulted pages, in every such batch.
  if (batch.GetDataSize() > kKeepBatchBytes) {
    batch = rocksdb::WriteBatch();
  } else {
    batch.Clear();
  }
}

void Index::Rep::GroupEntries() {
  Scratch& s = scratch;
  s.items.clear();
  s.groups.clear();
  s.spans.clear();
  // Values to inline: small ones of txs whose values truncation has not
  // discarded (one racing with this batch is caught by the reader, which
  // checks the truncation point before it uses an inline value). Values are
  // appended in tx order, so the batch's lie in one range of the log, with
  // the txs' records (and any larger values) between them. They are read in
  // spans, one read each: a span takes the next value when at most kMaxGap
  // bytes lie between them and the span stays within kMaxSpan bytes, so the
  // bytes read are at most the values plus kMaxGap each (about 290 bytes per
  // 1-entry tx of a 100-byte value).
  constexpr uint64_t kMaxGap = 1024;
  constexpr uint64_t kMaxSpan = 1 << 20;
  const uint32_t max_inline = opts.inline_value_max_bytes;
  const uint64_t truncated = max_inline > 0 ? store->TruncatedUpTo() : 0;
  uint32_t at = 0;  // Bytes of the closed spans.
  // Whether each tx's items ascend by key (as a batch of sequence numbers
  // does): then the txs' runs, unless they overlap, need no sort (below).
  s.runs.clear();
  bool runs_ascend = true;
  for (size_t t = 0; t < s.txs.size(); t++) {
    const Tx& tx = *s.txs[t];
    const uint32_t run_first = static_cast<uint32_t>(s.items.size());
    const bool values = max_inline > 0 && tx.header.id > truncated;
    const std::vector<TxEntry>& entries = tx.entries;
    for (size_t i = 0; i < entries.size(); i++) {
      const TxEntry& e = entries[i];
      if (e.md.non_indexable) continue;
      uint32_t value_at = Scratch::kNoValue;
      if (values && e.vlen > 0 && e.vlen <= max_inline) {
        if (!s.spans.empty() && e.voff >= s.spans.back().end &&
            e.voff - s.spans.back().end <= kMaxGap &&
            e.voff + e.vlen - s.spans.back().offset <= kMaxSpan) {
          s.spans.back().end = e.voff + e.vlen;
        } else {
          if (!s.spans.empty())
            at += static_cast<uint32_t>(s.spans.back().end - s.spans.back().offset);
          s.spans.push_back({e.voff, e.voff + e.vlen, at});
        }
        value_at = s.spans.back().at + static_cast<uint32_t>(e.voff - s.spans.back().offset);
      }
      runs_ascend = runs_ascend && (s.items.size() == run_first || s.items.back().key < e.key);
      s.items.push_back({0, e.key, static_cast<uint32_t>(t), static_cast<uint32_t>(i), value_at});
    }
    if (s.items.size() > run_first) {
      s.runs.push_back({run_first, static_cast<uint32_t>(s.items.size())});
    }
  }
  if (runs_ascend && SortRuns()) {
    // Strictly ascending: every key once.
    for (uint32_t i = 0; i < s.items.size(); i++) {
      s.groups.push_back({i, 1, 0, Scratch::kNoValue, 0});
    }
    return;
  }
  // By key, then in commit order: a key's versions in revision order. The
  // keys of a batch mostly share a long prefix (sequence numbers, a common
  // namespace), which every string comparison would compare again: items
  // first compare by the 8 bytes that follow the batch's common prefix, and
  // only equal ones by their keys.
  if (!s.items.empty()) {
    const std::string_view first = s.items[0].key;
    size_t common = first.size();
    for (const Scratch::Item& item : s.items) {
      const size_t m = std::min(common, item.key.size());
      size_t n = 0;
      while (n < m && first[n] == item.key[n]) n++;
      common = n;
    }
    for (Scratch::Item& item : s.items) {
      uint64_t order = 0;
      for (size_t j = common; j < common + 8; j++) {
        order = (order << 8) | (j < item.key.size() ? static_cast<uint8_t>(item.key[j]) : 0);
      }
      item.order = order;
    }
  }
  std::sort(s.items.begin(), s.items.end(), [](const Scratch::Item& a, const Scratch::Item& b) {
    if (a.order != b.order) return a.order < b.order;
    if (const int c = a.key.compare(b.key); c != 0) return c < 0;
    return a.tx != b.tx ? a.tx < b.tx : a.entry < b.entry;
  });
  GroupSorted();
}

bool Index::Rep::SortRuns() {
  // Each run (a tx's items) ascends. Ordered by their first keys, runs that
  // do not overlap (each starts past the end of the one before) are the
  // batch in key order, each key once: the items are laid out run by run,
  // without comparing them again. Txs of disjoint key ranges (writers of
  // sequence numbers, committed a little out of order) take this path;
  // overlapping runs (a key in two txs) take the sort.
  Scratch& s = scratch;
  if (s.runs.size() > 1) {
    auto by_first = [&](const Scratch::Run& a, const Scratch::Run& b) {
      return s.items[a.begin].key < s.items[b.begin].key;
    };
    // Runs committed in key order are laid out already.
    const bool in_place = std::is_sorted(s.runs.begin(), s.runs.end(), by_first);
    if (!in_place) std::sort(s.runs.begin(), s.runs.end(), by_first);
    for (size_t r = 1; r < s.runs.size(); r++) {
      if (!(s.items[s.runs[r - 1].end - 1].key < s.items[s.runs[r].begin].key)) return false;
    }
    if (in_place) return true;
    s.sorted.clear();
    for (const Scratch::Run& run : s.runs) {
      s.sorted.insert(s.sorted.end(), s.items.begin() + run.begin, s.items.begin() + run.end);
    }
    s.items.swap(s.sorted);
  }
  return true;
}

void Index::Rep::GroupSorted() {
  Scratch& s = scratch;
  for (uint32_t i = 0; i < s.items.size(); i++) {
    if (i > 0 && s.items[i].key == s.items[i - 1].key) {
      s.groups.back().count++;
    } else {
      s.groups.push_back({i, 1, 0, Scratch::kNoValue, 0});
    }
  }
}

Status Index::Rep::ReadValues() {
  Scratch& s = scratch;
  if (s.spans.empty()) return Status::OK();
  const Scratch::Span& last = s.spans.back();
  s.values.resize(last.at + (last.end - last.offset));
  for (const Scratch::Span& span : s.spans) {
    IMMUDB_RETURN_IF_ERROR(
        store->ReadValueLogRange(span.offset, span.end - span.offset, s.values.data() + span.at)
            .WithPrefix("index: reading values to inline"));
  }
  return Status::OK();
}

Status Index::Rep::LatestRevisions() {
  Scratch& s = scratch;
  // Groups are in key order, so the MultiGet keys come out sorted.
  s.missing.clear();
  s.keys.clear();
  s.firsts.clear();
  bool past_bound = false;  // Groups are sorted: past it, the rest are too.
  for (uint32_t g = 0; g < s.groups.size(); g++) {
    const std::string_view key = s.items[s.groups[g].first].key;
    past_bound = past_bound || key > latest_bound;
    if (past_bound) {
      // Past every key with a latest record (keys written in ascending
      // order): a new key. The revision cache holds keys of written batches,
      // none past latest_bound, so it is not read. A key written once here
      // is not cached either (below); for one written more often, its slot
      // is loaded now, while the batch is encoded and written, for the
      // Insert after.
      s.groups[g].revision = 0;
      if (s.groups[g].count > 1) {
        s.groups[g].hash = RevisionCache::HashOf(key);
        revisions.Prefetch(s.groups[g].hash);
      }
      continue;
    }
    s.groups[g].hash = RevisionCache::HashOf(key);
    if (auto rev = revisions.Lookup(key, s.groups[g].hash); rev && *rev != 1) {
      // (At revision 1 the batch needs the key's 'L' record: below.)
      s.groups[g].revision = *rev;
    } else {
      s.missing.push_back(g);
      s.keys.push_back(kLatestTag);
      s.keys.append(key);
    }
  }
  if (s.missing.empty()) return Status::OK();
  // RocksDB's MultiGet keeps a context per key in a vector it grows key by
  // key: one call for a batch's thousands of keys reallocated megabytes, on
  // newly faulted pages, in every batch. Calls of at most kPerCall keys keep
  // it, and the buffers here, small and reused; each call's keys are sorted.
  constexpr size_t kPerCall = 256;
  const size_t n = s.missing.size();
  const rocksdb::ReadOptions ro;
  size_t off = 0;
  for (size_t base = 0; base < n; base += kPerCall) {
    const size_t m = std::min(kPerCall, n - base);
    s.get_keys.resize(m);
    s.get_statuses.resize(m);
    if (s.get_values.size() < m) s.get_values.resize(m);
    for (size_t i = 0; i < m; i++) {
      const size_t len = 1 + s.items[s.groups[s.missing[base + i]].first].key.size();
      s.get_keys[i] = rocksdb::Slice(s.keys.data() + off, len);
      off += len;
    }
    db->MultiGet(ro, latest_cf, m, s.get_keys.data(), s.get_values.data(), s.get_statuses.data(),
                 /*sorted_input=*/true);
    auto take = [&]() -> Status {
      for (size_t i = 0; i < m; i++) {
        if (s.get_statuses[i].IsNotFound()) continue;
        IMMUDB_RETURN_IF_ERROR(FromRocks(s.get_statuses[i], "index read"));
        const std::string_view record(s.get_values[i].data(), s.get_values[i].size());
        IMMUDB_ASSIGN_OR_RETURN(uint64_t rev, DecodeRevision(record));
        Scratch::Group& group = s.groups[s.missing[base + i]];
        group.revision = rev;
        if (rev == 1) {
          // Its only version has no 'H' record yet: this batch writes one, the
          // 'L' record without an inline value (DecodeRevision checked the
          // length, so the metadata length byte is there).
          group.first_at = static_cast<uint32_t>(s.firsts.size());
          s.firsts.append(record.substr(0, PlainRecordSize(record)));
        }
      }
      return Status::OK();
    };
    const Status st = take();
    // Unpin the blocks the values point into.
    for (size_t i = 0; i < m; i++) s.get_values[i].Reset();
    IMMUDB_RETURN_IF_ERROR(st);
  }
  return Status::OK();
}

void Index::Rep::EncodeItem(const Scratch::Group& g, uint32_t i, bool latest) {
  const Scratch::Item& item = scratch.items[g.first + i];
  const TxEntry& e = scratch.txs[item.tx]->entries[item.entry];
  const char* value = latest && item.value_at != Scratch::kNoValue
                          ? scratch.values.data() + item.value_at
                          : nullptr;
  EncodeRecordFieldsTo(scratch.txs[item.tx]->header.id, item.entry, g.revision + i + 1, e, value,
                       &scratch.value);
}

Status Index::Rep::IndexBatch(uint64_t from, uint64_t last) {
  Scratch& s = scratch;
  s.Trim();
  // RocksDB's per-thread perf counters (on by default, read by no one) cost
  // two thread-local lookups per key comparison of the memtable inserts.
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
  IMMUDB_RETURN_IF_ERROR(ReadTxs(from, last, &s.txs));
  GroupEntries();
  IMMUDB_RETURN_IF_ERROR(ReadValues());
  IMMUDB_RETURN_IF_ERROR(LatestRevisions());

  // Records go into the memtable sorted ('H' < 'L' < 'M'), and the index's
  // memtable (memtable_rep.cc) starts each insert at the previous one of the
  // same kind. History keys order by key length first; with keys of one
  // length that is the groups' key order.
  s.history_order.resize(s.groups.size());
  bool one_length = true;
  for (uint32_t g = 0; g < s.groups.size(); g++) {
    s.history_order[g] = g;
    one_length = one_length &&
                 s.items[s.groups[g].first].key.size() == s.items[s.groups[0].first].key.size();
  }
  if (!one_length) {
    std::sort(s.history_order.begin(), s.history_order.end(), [&](uint32_t a, uint32_t b) {
      const std::string_view ka = s.items[s.groups[a].first].key;
      const std::string_view kb = s.items[s.groups[b].first].key;
      return ka.size() != kb.size() ? ka.size() < kb.size() : ka < kb;
    });
  }
  // A key's first version has an 'H' record only once the key has a second
  // one (docs/format/index.md): a new key written once gets its 'L' record
  // alone, and the batch that writes a key's second version also writes
  // the 'H' record of its first, which is its 'L' record until then.
  for (uint32_t g : s.history_order) {
    const Scratch::Group& group = s.groups[g];
    const std::string_view key = s.items[group.first].key;
    if (group.first_at != Scratch::kNoValue) {
      HistoryKeyTo(key, 1, &s.key);
      const std::string_view first = std::string_view(s.firsts).substr(group.first_at);
      s.batch.Put(history_cf, s.key, rocksdb::Slice(first.data(), PlainRecordSize(first)));
    }
    // A new key's only version in the batch: its 'L' record alone.
    const uint32_t from = group.revision == 0 && group.count == 1 ? 1 : 0;
    for (uint32_t i = from; i < group.count; i++) {
      HistoryKeyTo(key, group.revision + i + 1, &s.key);
      EncodeItem(group, i, /*latest=*/false);
      s.batch.Put(history_cf, s.key, s.value);
    }
  }
  // One latest record per key: its last version in the batch. A batch's
  // keys and entries (about 2.6 MB for 16,384 entries of 16-byte keys) no
  // longer fit the core's cache after GroupEntries went over them: each key,
  // in its own heap block, and its entry are loaded a few keys ahead.
  constexpr size_t kAhead = 8;
  for (size_t g = 0; g < s.groups.size(); g++) {
    if (g + kAhead < s.groups.size()) {
      const Scratch::Group& next = s.groups[g + kAhead];
      const Scratch::Item& item = s.items[next.first + next.count - 1];
      __builtin_prefetch(item.key.data());
      __builtin_prefetch(&s.txs[item.tx]->entries[item.entry]);
    }
    const Scratch::Group& group = s.groups[g];
    LatestKeyTo(s.items[group.first].key, &s.key);
    EncodeItem(group, group.count - 1, /*latest=*/true);
    s.batch.Put(latest_cf, s.key, s.value);
  }
  const uint64_t to = s.txs.back()->header.id;
  uint8_t upto[8];
  PutU64BE(upto, to);
  s.batch.Put(meta_cf, rocksdb::Slice(kIndexedUpToKey.data(), kIndexedUpToKey.size()),
              rocksdb::Slice(reinterpret_cast<const char*>(upto), sizeof(upto)));
  rocksdb::WriteOptions wo;
  wo.disableWAL = opts.disable_wal;
  IMMUDB_RETURN_IF_ERROR(FromRocks(db->Write(wo, &s.batch), "index write"));
  // Only now does RocksDB hold these revisions. A key at revision 1 is not
  // cached: the batch that writes its second version reads its 'L' record
  // anyway (LatestRevisions), so its slot is left to a key whose revision
  // saves that read, and a fill of new keys (most of them written once)
  // neither hashes them nor writes a slot per key.
  for (const Scratch::Group& group : s.groups) {
    if (group.revision + group.count == 1) continue;
    revisions.Insert(s.items[group.first].key, group.hash, group.revision + group.count);
  }
  if (!s.groups.empty()) {
    const std::string_view greatest = s.items[s.groups.back().first].key;  // Groups are sorted.
    if (greatest > latest_bound) latest_bound.assign(greatest);
  }
  s.Trim();
  {
    std::lock_guard<std::mutex> l(mu);
    indexed_upto.store(to);
  }
  // The store's memory of recent txs may let go of these, and keeps the
  // ones after them for the next batches (up to a bound).
  store->KeepRecentTxsAfter(to);
  cv.notify_all();
  RunWhenIndexed();
  return Status::OK();
}

}  // namespace immudb::index
