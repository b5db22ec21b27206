// Database workloads of immudb-bench: writes through immudb::Database with the
// key index on, reporting how far the indexer lags behind the commits, and the
// database layer's read paths (Get, Get at tx, VerifiableGet, History, prefix
// Scan, ZScan) and index rebuild. They use the subdirectory db/ of the run's
// directory, apart from the raw-store workloads. Included by immudb_bench.cc.
#pragma once

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "bench_runner.h"
#include "immudb/database.h"
#include "op_breakdown.h"

namespace immudb::bench {

class DbWorkloads {
 public:
  DbWorkloads(const Flags& f, const std::string& dir, const ValueSource& values)
      : f_(f), dir_(dir + "/db"), values_(values) {}
  ~DbWorkloads() {
    Status ignored = Close();
    (void)ignored;
  }

  static bool Known(const std::string& name) {
    static const std::set<std::string> kNames = {
        "dbfill",        "dbfillsync", "dbfillbatch", "get",   "getattx",
        "verifiableget", "history",    "scan100",     "zscan", "dbrebuild"};
    return kNames.contains(name);
  }

  Status Run(const std::string& name) {
    if (name == "dbfill") return Fill(name, false, f_.threads);
    if (name == "dbfillsync") return Fill(name, true, f_.threads);
    if (name == "dbfillbatch") return FillBatch();
    if (name == "get") return Get();
    if (name == "getattx") return GetAtTx();
    if (name == "verifiableget") return VerifiableGet();
    if (name == "history") return History();
    if (name == "scan100") return Scan100();
    if (name == "zscan") return ZScan();
    if (name == "dbrebuild") return Rebuild();
    return Status::InvalidArgument("unknown benchmark: " + name);
  }

  Status Close() {
    if (!db_) return Status::OK();
    Status s = db_->Close();
    db_.reset();
    return s;
  }

 private:
  // Opens the database in the wanted commit mode, reopening it if needed, and
  // finds how many bench keys (0, 1, 2, ... as MakeKey) it holds.
  Status Open(bool synced) {
    if (db_ && synced_ == synced) return Status::OK();
    IMMUDB_RETURN_IF_ERROR(Close());
    IMMUDB_ASSIGN_OR_RETURN(db_, Database::Open(dir_, Options(synced)));
    synced_ = synced;
    return CountKeys();
  }

  DatabaseOptions Options(bool synced) const {
    DatabaseOptions o;
    o.store.synced = synced;
    o.store.max_key_len = std::max(o.store.max_key_len, f_.key_size + 1);
    o.store.max_value_len = std::max(o.store.max_value_len, f_.value_size + 1);
    o.store.max_tx_entries = std::max(o.store.max_tx_entries, f_.batch);
    if (f_.sync_interval_ms >= 0) {
      o.store.unsynced_sync_interval_ms = static_cast<uint32_t>(f_.sync_interval_ms);
    }
    o.index_wait_timeout_ms = 3600 * 1000;
    if (f_.inline_value_bytes >= 0) {
      o.index_inline_value_bytes = static_cast<uint32_t>(f_.inline_value_bytes);
    }
    if (f_.index_write_buffer_mb > 0) {
      o.index_write_buffer_bytes = static_cast<size_t>(f_.index_write_buffer_mb) << 20;
    }
    if (f_.index_block_cache_mb >= 0) {
      o.index_block_cache_bytes = static_cast<size_t>(f_.index_block_cache_mb) << 20;
    }
    if (f_.value_map_mb >= 0) {
      o.store.value_map_bytes = static_cast<uint64_t>(f_.value_map_mb) << 20;
    }
    return o;
  }

  // Bench keys are written in order, so key n exists iff n < keys_: a binary
  // search with Get finds keys_ in ~40 lookups.
  Status CountKeys() {
    auto exists = [&](uint64_t n) -> Result<bool> {
      KeyRequest req;
      req.key = MakeKey(n, f_.key_size);
      auto e = db_->Get(req);
      if (e.ok()) return true;
      if (e.status().IsNotFound()) return false;
      return e.status();
    };
    uint64_t lo = 0, hi = uint64_t{1} << 40;  // keys_ in [lo, hi].
    while (lo < hi) {
      const uint64_t mid = lo + (hi - lo) / 2;
      IMMUDB_ASSIGN_OR_RETURN(bool e, exists(mid));
      if (e) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    keys_ = lo;
    return Status::OK();
  }

  // Samples the index lag while a fill runs; Finish() waits for the indexer
  // to catch up and reports the lag and the indexing rate.
  class LagMonitor {
   public:
    explicit LagMonitor(Database* db) : db_(db), start_(Clock::now()) {
      start_indexed_ = db_->IndexedUpTo();
      thread_ = std::thread([this] {
        while (!stop_.load()) {
          max_lag_ = std::max(max_lag_.load(), Lag());
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
      });
    }
    ~LagMonitor() { Stop(); }

    void Finish(const std::string& name, uint64_t entries_per_tx) {
      Stop();
      const uint64_t lag_end = Lag();
      const auto fill_end = Clock::now();
      const uint64_t last = db_->CurrentState().tx_id;
      while (db_->IndexedUpTo() < last) std::this_thread::sleep_for(std::chrono::microseconds(200));
      const auto done = Clock::now();
      const double catchup = std::chrono::duration<double>(done - fill_end).count();
      const double total = std::chrono::duration<double>(done - start_).count();
      const double txs = static_cast<double>(last - start_indexed_);
      std::printf("%-16s: lag at end %" PRIu64 " txs (max sampled %" PRIu64
                  "), caught up %.3f s after the fill; indexed %.0f tx/s, %.0f entries/s "
                  "over fill + catch-up\n",
                  (name + " index").c_str(), lag_end, std::max(max_lag_.load(), lag_end), catchup,
                  txs / total, txs * static_cast<double>(entries_per_tx) / total);
      std::fflush(stdout);
    }

   private:
    uint64_t Lag() const {
      const uint64_t last = db_->CurrentState().tx_id;
      const uint64_t upto = db_->IndexedUpTo();
      return last > upto ? last - upto : 0;
    }
    void Stop() {
      stop_ = true;
      if (thread_.joinable()) thread_.join();
    }

    Database* db_;
    Clock::time_point start_;
    uint64_t start_indexed_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<uint64_t> max_lag_{0};
    std::thread thread_;
  };

  // 1-entry Sets of new sequential keys; writers do not wait for the index
  // (unless --index_wait), the lag monitor reports it.
  Status Fill(const std::string& name, bool synced, int threads) {
    IMMUDB_RETURN_IF_ERROR(Open(synced));
    const uint64_t base = keys_;
    LagMonitor lag(db_.get());
    auto op = [&](ThreadState& st, uint64_t i) -> Status {
      std::vector<KeyValue> kvs(1);
      kvs[0].key = MakeKey(base + i, f_.key_size);
      kvs[0].value = values_.Get(st.rng);
      st.bytes += kvs[0].key.size() + kvs[0].value.size();
      IMMUDB_RETURN_IF_ERROR(db_->Set(kvs, !f_.index_wait).status());
      st.entries++;
      st.txs++;
      return Status::OK();
    };
    IMMUDB_ASSIGN_OR_RETURN(RunStats r, RunOps(threads, f_.num, f_.duration, f_.seed, op));
    keys_ = base + r.ops;
    Report(name, r, {.mb = true, .tx_entries = true}, f_.histogram);
    lag.Finish(name, 1);
    return Status::OK();
  }

  // Synced Sets of --batch new sequential keys; --num counts entries.
  Status FillBatch() {
    IMMUDB_RETURN_IF_ERROR(Open(true));
    const uint64_t base = keys_;
    const uint64_t txs = std::max<uint64_t>(1, f_.num / f_.batch);
    const int threads = static_cast<int>(
        std::min<uint64_t>(txs, f_.batch_threads > 0 ? f_.batch_threads : f_.threads));
    LagMonitor lag(db_.get());
    auto op = [&](ThreadState& st, uint64_t i) -> Status {
      std::vector<KeyValue> kvs(f_.batch);
      for (size_t e = 0; e < f_.batch; e++) {
        kvs[e].key = MakeKey(base + i * f_.batch + e, f_.key_size);
        kvs[e].value = values_.Get(st.rng);
        st.bytes += kvs[e].key.size() + kvs[e].value.size();
      }
      IMMUDB_RETURN_IF_ERROR(db_->Set(kvs, !f_.index_wait).status());
      st.entries += f_.batch;
      st.txs++;
      return Status::OK();
    };
    IMMUDB_ASSIGN_OR_RETURN(RunStats r, RunOps(threads, txs, f_.duration, f_.seed, op));
    keys_ = base + r.txs * f_.batch;
    Report("dbfillbatch/" + std::to_string(f_.batch), r, {.mb = true, .tx_entries = true},
           f_.histogram);
    lag.Finish("dbfillbatch", f_.batch);
    return Status::OK();
  }

  // Reads need keys: an empty database first gets --num unsynced 1-entry txs,
  // and every read waits for the index to cover them.
  Status EnsureFilled() {
    if (!db_) IMMUDB_RETURN_IF_ERROR(Open(false));
    if (keys_ == 0) {
      std::printf("(database is empty: filling %" PRIu64 " keys first)\n", f_.num);
      IMMUDB_RETURN_IF_ERROR(Fill("dbfill", false, f_.threads));
    }
    const uint64_t last = db_->CurrentState().tx_id;
    while (db_->IndexedUpTo() < last) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return Status::OK();
  }

  int read_threads() const {
    if (f_.read_threads > 0) return f_.read_threads;
    return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  }

  // Each read workload of the process draws its own keys: the first with
  // --seed, the next ones with seeds derived from it. A second pass that
  // replayed the first one's keys would find in the index's block cache only
  // the blocks of the first pass's last calls, and miss in the rest, where
  // fresh random keys hit as often as the cache covers the index.
  Status RunReads(const std::string& name, const OpFn& op, bool entries = false) {
    const uint64_t seed = f_.seed + read_runs_++ * 0x9e3779b97f4a7c15ull;
    IMMUDB_ASSIGN_OR_RETURN(RunStats r, RunOps(read_threads(), f_.num, f_.duration, seed, op));
    Report(name, r, {.mb = true, .tx_entries = entries}, f_.histogram);
    return Status::OK();
  }

  // The latest value of a random key.
  Status Get() {
    IMMUDB_RETURN_IF_ERROR(EnsureFilled());
    return RunReads("get", [&](ThreadState& st, uint64_t) -> Status {
      KeyRequest req;
      req.key = MakeKey(st.rng.Uniform(keys_), f_.key_size);
      IMMUDB_ASSIGN_OR_RETURN(Entry e, db_->Get(req));
      st.bytes += e.key.size() + e.value.size();
      return Status::OK();
    });
  }

  // Up to 4096 random keys with the tx of their latest version, read before
  // timing (as a client that got them from an earlier reply).
  Result<std::vector<std::pair<std::string, uint64_t>>> KeysWithTx() {
    Rng rng(f_.seed ^ 0x6e7);
    std::vector<std::pair<std::string, uint64_t>> pool(std::min<uint64_t>(4096, f_.num));
    for (auto& [key, tx] : pool) {
      KeyRequest req;
      req.key = MakeKey(rng.Uniform(keys_), f_.key_size);
      IMMUDB_ASSIGN_OR_RETURN(Entry e, db_->Get(req));
      key = req.key;
      tx = e.tx;
    }
    return pool;
  }

  // Get of a random key at the tx that wrote it (read from the tx, not the index).
  Status GetAtTx() {
    IMMUDB_RETURN_IF_ERROR(EnsureFilled());
    IMMUDB_ASSIGN_OR_RETURN(auto pool, KeysWithTx());
    return RunReads("getattx", [&](ThreadState& st, uint64_t i) -> Status {
      KeyRequest req;
      req.key = pool[i % pool.size()].first;
      req.at_tx = pool[i % pool.size()].second;
      IMMUDB_ASSIGN_OR_RETURN(Entry e, db_->Get(req));
      st.bytes += e.key.size() + e.value.size();
      return Status::OK();
    });
  }

  // VerifiableGet of a random key for a client whose trusted state is the
  // last tx at the start: entry, tx, inclusion proof and dual proof.
  Status VerifiableGet() {
    IMMUDB_RETURN_IF_ERROR(EnsureFilled());
    const uint64_t trusted = db_->CurrentState().tx_id;
    OpBreakdown breakdown;
    auto call = [&](ThreadState& st) -> Status {
      KeyRequest req;
      req.key = MakeKey(st.rng.Uniform(keys_), f_.key_size);
      IMMUDB_ASSIGN_OR_RETURN(VerifiableEntry ve, db_->VerifiableGet(req, trusted));
      st.bytes += ve.entry.key.size() + ve.entry.value.size();
      return Status::OK();
    };
    IMMUDB_RETURN_IF_ERROR(RunReads("verifiableget", [&](ThreadState& st, uint64_t) -> Status {
      if (!f_.breakdown) return call(st);
      return breakdown.Measure(&st, [&] { return call(st); });
    }));
    if (f_.breakdown) breakdown.Print("verifiableget");
    return Status::OK();
  }

  // History (100 versions) of one of 100 keys that have 100 versions each;
  // writes those versions first when the database has none.
  Status History() {
    IMMUDB_RETURN_IF_ERROR(EnsureFilled());
    constexpr int kKeys = 100, kVersions = 100;
    auto hist_key = [](uint64_t k) { return "hist-" + MakeKey(k, 4); };
    KeyRequest probe;
    probe.key = hist_key(0);
    if (db_->Get(probe).status().IsNotFound()) {
      Rng rng(f_.seed ^ 0x4157);
      for (int v = 0; v < kVersions; v++) {
        std::vector<KeyValue> kvs(kKeys);
        for (int k = 0; k < kKeys; k++) {
          kvs[k].key = hist_key(k);
          kvs[k].value = values_.Get(rng);
        }
        IMMUDB_RETURN_IF_ERROR(db_->Set(kvs, true).status());
      }
      IMMUDB_RETURN_IF_ERROR(EnsureFilled());
    }
    return RunReads(
        "history",
        [&](ThreadState& st, uint64_t) -> Status {
          HistoryRequest req;
          req.key = hist_key(st.rng.Uniform(kKeys));
          req.limit = kVersions;
          IMMUDB_ASSIGN_OR_RETURN(std::vector<Entry> es, db_->History(req));
          for (const Entry& e : es) st.bytes += e.key.size() + e.value.size();
          st.entries += es.size();
          return Status::OK();
        },
        true);
  }

  // Prefix scan that returns the 100 keys sharing all but the last two digits
  // of a random key.
  Status Scan100() {
    IMMUDB_RETURN_IF_ERROR(EnsureFilled());
    if (f_.key_size < 3) return Status::InvalidArgument("scan100 needs --key_size >= 3");
    return RunReads(
        "scan100",
        [&](ThreadState& st, uint64_t) -> Status {
          ScanRequest req;
          req.prefix = MakeKey(st.rng.Uniform(keys_), f_.key_size).substr(0, f_.key_size - 2);
          req.limit = 100;
          IMMUDB_ASSIGN_OR_RETURN(std::vector<Entry> es, db_->Scan(req));
          for (const Entry& e : es) st.bytes += e.key.size() + e.value.size();
          st.entries += es.size();
          return Status::OK();
        },
        true);
  }

  // ZScan (100 members from a random score on) of a sorted set of up to 1000
  // bench keys with random scores; adds the members first when missing.
  Status ZScan() {
    IMMUDB_RETURN_IF_ERROR(EnsureFilled());
    const std::string set = "bench-zset";
    const uint64_t members = std::min<uint64_t>(1000, keys_);
    ZScanRequest probe;
    probe.set = set;
    probe.limit = 1;
    IMMUDB_ASSIGN_OR_RETURN(std::vector<ZEntry> have, db_->ZScan(probe));
    if (have.empty()) {
      Rng rng(f_.seed ^ 0x25ca);
      for (uint64_t m = 0; m < members; m += 100) {
        std::vector<Op> ops;
        for (uint64_t k = m; k < std::min(members, m + 100); k++) {
          ZAddRequest z;
          z.set = set;
          z.key = MakeKey(k, f_.key_size);
          z.score = static_cast<double>(rng.Uniform(1000000));
          ops.emplace_back(std::move(z));
        }
        IMMUDB_RETURN_IF_ERROR(db_->ExecAll(ops, false).status());
      }
    }
    return RunReads(
        "zscan",
        [&](ThreadState& st, uint64_t) -> Status {
          ZScanRequest req;
          req.set = set;
          req.limit = 100;
          req.min_score = static_cast<double>(st.rng.Uniform(900000));
          IMMUDB_ASSIGN_OR_RETURN(std::vector<ZEntry> zs, db_->ZScan(req));
          for (const ZEntry& z : zs) st.bytes += z.key.size() + z.entry.value.size();
          st.entries += zs.size();
          return Status::OK();
        },
        true);
  }

  // Deletes the index and times its rebuild from the tx log.
  Status Rebuild() {
    IMMUDB_RETURN_IF_ERROR(EnsureFilled());
    const bool synced = synced_;
    IMMUDB_RETURN_IF_ERROR(Close());
    std::error_code ec;
    std::filesystem::remove_all(dir_ + "/index", ec);
    if (ec) return Status::IOError("remove index: " + ec.message());
    const auto t0 = Clock::now();
    IMMUDB_ASSIGN_OR_RETURN(db_, Database::Open(dir_, Options(synced)));
    const uint64_t last = db_->CurrentState().tx_id;
    while (db_->IndexedUpTo() < last) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    RunStats r;
    r.threads = 1;
    r.ops = last;
    r.txs = last;
    r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    r.hist.Add(static_cast<uint64_t>(r.seconds * 1e9));
    Report("dbrebuild", r, {}, false);  // ops = txs indexed.
    std::printf("%-16s: index of %" PRIu64 " txs (%" PRIu64
                " bench keys) rebuilt from the log; RSS now %.1f MB\n",
                "dbrebuild info", last, keys_, CurrentRssKb() / 1024.0);
    return Status::OK();
  }

  const Flags& f_;
  const std::string dir_;
  const ValueSource& values_;
  std::unique_ptr<Database> db_;
  bool synced_ = false;
  uint64_t keys_ = 0;
  uint64_t read_runs_ = 0;  // Read workloads run so far (RunReads).
};

}  // namespace immudb::bench
