// immudb-bench: a db_bench-like load generator for the embedded store.
//
//   immudb-bench --benchmarks=fillsync,fillnosync,fillbatch,readtx,dualproof,open
//                --num=100000 --threads=128 [--db=DIR [--keep]] [--histogram]
//
// Every workload runs a bounded number of operations (--num) and stops early
// after --duration seconds, reporting what it did. All workloads of one run
// share one store directory, so the read and proof workloads see the
// transactions the fills committed before them. See docs/benchmarks.md.
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cinttypes>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <latch>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench_runner.h"  // bench/, beside this file.
#include "db_workloads.h"
#include "immudb/store.h"
#include "immudb/verify.h"
#include "machine_check.h"

namespace immudb::bench {
namespace {

const char kUsage[] =
    "usage: immudb-bench [--name=value ...]\n"
    "  --benchmarks=LIST   comma list of: fillsync, fillnosync, fillseq, fillrandom,\n"
    "                      fillbatch, readtx, dualproof, open, fillasync\n"
    "                      (default fillsync,fillnosync,fillbatch,readtx,dualproof,open)\n"
    "                      database (index on): dbfill, dbfillsync, dbfillbatch, get,\n"
    "                      getattx, verifiableget, history, scan100, zscan, dbrebuild\n"
    "                      machine: memlat (fresh-memory and random-load costs)\n"
    "  --num=N             operations per workload (fillbatch: entries) [100000]\n"
    "  --threads=N         concurrent writers [128]; fillasync: commits in flight\n"
    "                      from one thread (Store::CommitAsync)\n"
    "  --read_threads=N    threads of readtx and dualproof [number of CPUs]\n"
    "  --batch_threads=N   threads of fillbatch [--threads]\n"
    "  --key_size=N        key bytes [16]\n"
    "  --value_size=N      value bytes [100]\n"
    "  --batch=N           entries per transaction in fillbatch [1000]\n"
    "  --db=DIR            store directory [fresh temp dir, removed at exit]\n"
    "  --keep              keep the temp directory\n"
    "  --sync=0|1          synced commits for fillseq/fillrandom [0], fillbatch and\n"
    "                      fillasync [1]\n"
    "  --duration=SEC      stop a workload after SEC seconds, 0 = no cap [120]\n"
    "  --histogram         print the latency histogram of each workload\n"
    "  --seed=N            random seed [301]\n"
    "  --sync_interval_ms=N  unsynced mode: sync at most every N ms, 0 = never\n"
    "                      [StoreOptions default]\n"
    "  --index_wait        database fills wait for their tx to be indexed\n"
    "  --inline_value_bytes=N  values of at most N bytes kept in the index's latest\n"
    "                      records (0: none) [DatabaseOptions default]\n"
    "  --index_write_buffer_mb=N  the index's memtable budget in MiB\n"
    "                      [DatabaseOptions default]\n"
    "  --index_block_cache_mb=N  the index's block cache in MiB\n"
    "                      [DatabaseOptions default]\n"
    "  --value_map_mb=N    the budget of mapped value reads in MiB [StoreOptions default]\n"
    "  --memlat_mb=N       memlat: the large working set in MiB [2048]\n"
    "  --breakdown         verifiableget: time each part of every call and print\n"
    "                      where the median and the slowest 1% of the calls spend it\n";

bool ParseUint(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9' || v > (UINT64_MAX - 9) / 10) return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

// Parses one --name=value (or --flag) argument. Returns false on an unknown
// flag or a bad value.
bool ParseFlag(std::string_view arg, Flags* f) {
  if (arg.substr(0, 2) != "--") return false;
  arg.remove_prefix(2);
  const size_t eq = arg.find('=');
  const std::string_view name = arg.substr(0, eq);
  const std::string_view value = eq == std::string_view::npos ? "" : arg.substr(eq + 1);
  const bool has_value = eq != std::string_view::npos;
  uint64_t n = 0;
  auto num = [&](auto* dst, uint64_t lo, uint64_t hi) {
    if (!ParseUint(value, &n) || n < lo || n > hi) return false;
    *dst = static_cast<std::remove_pointer_t<decltype(dst)>>(n);
    return true;
  };
  auto boolean = [&](bool* dst) {
    if (!has_value || value == "1" || value == "true") return *dst = true, true;
    if (value == "0" || value == "false") return *dst = false, true;
    return false;
  };
  if (name == "benchmarks" && has_value) return f->benchmarks = value, true;
  if (name == "db" && has_value) return f->db = value, true;
  if (name == "num") return num(&f->num, 1, uint64_t{1} << 40);
  if (name == "threads") return num(&f->threads, 1, 4096);
  if (name == "read_threads") return num(&f->read_threads, 1, 4096);
  if (name == "batch_threads") return num(&f->batch_threads, 1, 4096);
  if (name == "key_size") return num(&f->key_size, 1, 1024);
  if (name == "value_size") return num(&f->value_size, 0, 32 << 20);
  if (name == "batch") return num(&f->batch, 1, 1 << 20);
  if (name == "seed") return num(&f->seed, 0, UINT64_MAX);
  if (name == "sync_interval_ms") return num(&f->sync_interval_ms, 0, UINT32_MAX);
  if (name == "inline_value_bytes") return num(&f->inline_value_bytes, 0, UINT32_MAX);
  if (name == "index_write_buffer_mb") return num(&f->index_write_buffer_mb, 1, 1 << 16);
  if (name == "index_block_cache_mb") return num(&f->index_block_cache_mb, 0, 1 << 20);
  if (name == "value_map_mb") return num(&f->value_map_mb, 0, 1 << 20);
  if (name == "memlat_mb") return num(&f->memlat_mb, 1, 1 << 20);
  if (name == "keep") return boolean(&f->keep);
  if (name == "histogram") return boolean(&f->histogram);
  if (name == "index_wait") return boolean(&f->index_wait);
  if (name == "breakdown") return boolean(&f->breakdown);
  if (name == "sync") {
    bool b = false;
    if (!boolean(&b)) return false;
    f->sync = b ? 1 : 0;
    return true;
  }
  if (name == "duration") {
    char* end = nullptr;
    const std::string v(value);
    f->duration = std::strtod(v.c_str(), &end);
    return has_value && end != v.c_str() && *end == '\0' && f->duration >= 0;
  }
  return false;
}
class Benchmark {
 public:
  Benchmark(const Flags& flags, std::string dir)
      : f_(flags),
        dir_(std::move(dir)),
        values_(flags.value_size, flags.seed),
        db_(f_, dir_, values_) {}

  Status Run() {
    std::vector<std::string> names;
    std::string_view list = f_.benchmarks;
    while (!list.empty()) {
      const size_t comma = list.find(',');
      std::string name(list.substr(0, comma));
      list = comma == std::string_view::npos ? "" : list.substr(comma + 1);
      if (name.empty()) continue;
      static const std::set<std::string> kKnown = {
          "fillsync", "fillnosync", "fillseq", "fillrandom", "fillbatch",
          "readtx",   "dualproof",  "open",    "fillasync",  "memlat"};
      if (!kKnown.contains(name) && !DbWorkloads::Known(name))
        return Status::InvalidArgument("unknown benchmark: " + name);
      names.push_back(std::move(name));
    }
    for (const std::string& name : names) IMMUDB_RETURN_IF_ERROR(RunOne(name));
    IMMUDB_RETURN_IF_ERROR(db_.Close());
    return store_ ? store_->Close() : Status::OK();
  }

 private:
  Status RunOne(const std::string& name) {
    if (DbWorkloads::Known(name)) return db_.Run(name);
    const bool sync = f_.sync == 1;
    if (name == "fillsync") return Fill(name, true, f_.threads, false);
    if (name == "fillnosync") {
      IMMUDB_RETURN_IF_ERROR(Fill("fillnosync/1", false, 1, false));
      if (f_.threads == 1) return Status::OK();
      return Fill("fillnosync/" + std::to_string(f_.threads), false, f_.threads, false);
    }
    if (name == "fillseq") return Fill(name, sync, f_.threads, false);
    if (name == "fillrandom") return Fill(name, sync, f_.threads, true);
    if (name == "fillbatch") return FillBatch(f_.sync != 0);
    if (name == "fillasync")
      return FillAsync("fillasync/" + std::to_string(f_.threads), f_.sync != 0, f_.threads);
    if (name == "readtx") return ReadTx();
    if (name == "dualproof") return DualProof();
    if (name == "open") return Reopen();
    if (name == "memlat") return MemoryCheck(f_.memlat_mb, f_.seed);
    return Status::InvalidArgument("unknown benchmark: " + name);
  }

  // Opens the store in the wanted commit mode, reopening it if needed.
  Status Open(bool synced) {
    if (store_ && store_synced_ == synced) return Status::OK();
    if (store_) {
      IMMUDB_RETURN_IF_ERROR(store_->Close());
      store_.reset();
    }
    IMMUDB_ASSIGN_OR_RETURN(store_, Store::Open(dir_, Options(synced)));
    store_synced_ = synced;
    return Status::OK();
  }

  StoreOptions Options(bool synced) const {
    StoreOptions o;
    o.synced = synced;
    o.max_key_len = std::max(o.max_key_len, f_.key_size);
    o.max_value_len = std::max(o.max_value_len, f_.value_size);
    o.max_tx_entries = std::max(o.max_tx_entries, f_.batch);
    if (f_.sync_interval_ms >= 0) {
      o.unsynced_sync_interval_ms = static_cast<uint32_t>(f_.sync_interval_ms);
    }
    return o;
  }

  int read_threads() const {
    if (f_.read_threads > 0) return f_.read_threads;
    return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  }

  // 1-entry transactions; keys are a run-wide sequence (or random numbers).
  Status Fill(const std::string& name, bool synced, int threads, bool random_keys) {
    IMMUDB_RETURN_IF_ERROR(Open(synced));
    const uint64_t base = store_->CurrentState().tx_id;
    auto op = [&](ThreadState& st, uint64_t i) -> Status {
      const uint64_t n = random_keys ? st.rng.Uniform(f_.num) : base + i;
      std::vector<EntrySpec> es(1);
      es[0].key = MakeKey(n, f_.key_size);
      es[0].value = values_.Get(st.rng);
      st.bytes += es[0].key.size() + es[0].value.size();
      IMMUDB_RETURN_IF_ERROR(store_->Commit(std::move(es)).status());
      st.entries++;
      st.txs++;
      return Status::OK();
    };
    const Store::CommitStats before = store_->Stats();
    IMMUDB_ASSIGN_OR_RETURN(RunStats r, RunOps(threads, f_.num, f_.duration, f_.seed, op));
    Report(name, r, {.mb = true, .tx_entries = true}, f_.histogram);
    ReportCommitStats(name, before, store_->Stats());
    return Status::OK();
  }

  // 1-entry txs with `in_flight` commits outstanding at every moment, all
  // submitted from this one thread through Store::CommitAsync: `in_flight`
  // concurrent writers without a thread each, the way the server drives the
  // store. Latency is from submission to the commit's callback.
  Status FillAsync(const std::string& name, bool synced, int in_flight) {
    IMMUDB_RETURN_IF_ERROR(Open(synced));
    const uint64_t base = store_->CurrentState().tx_id;
    const Store::CommitStats before = store_->Stats();
    ThreadState st(f_.seed);
    std::mutex mu;
    std::condition_variable cv;
    int outstanding = 0;     // GUARDED_BY(mu)
    bool waiting = false;    // GUARDED_BY(mu): the submitter sleeps on cv.
    Status first_error;      // GUARDED_BY(mu)
    LatencyHistogram hist;   // GUARDED_BY(mu)
    uint64_t committed = 0;  // GUARDED_BY(mu)
    const auto start = Clock::now();
    const auto deadline = f_.duration > 0 ? start + std::chrono::duration_cast<Clock::duration>(
                                                        std::chrono::duration<double>(f_.duration))
                                          : Clock::time_point::max();
    bool capped = false;
    for (uint64_t i = 0; i < f_.num; i++) {
      {
        std::unique_lock<std::mutex> l(mu);
        if (outstanding >= in_flight) {
          waiting = true;
          cv.wait(l, [&] { return outstanding < in_flight; });
          waiting = false;
        }
        if (!first_error.ok()) break;
        outstanding++;
      }
      std::vector<EntrySpec> es(1);
      es[0].key = MakeKey(base + i, f_.key_size);
      es[0].value = values_.Get(st.rng);
      st.bytes += es[0].key.size() + es[0].value.size();
      const auto t0 = Clock::now();
      store_->CommitAsync(std::move(es), [&, t0](Result<TxHeader> r) {
        const auto ns = std::chrono::nanoseconds(Clock::now() - t0).count();
        bool wake;
        {
          std::lock_guard<std::mutex> g(mu);
          hist.Add(static_cast<uint64_t>(ns));
          if (r.ok()) {
            committed++;
          } else if (first_error.ok()) {
            first_error = r.status();
          }
          outstanding--;
          wake = waiting;
        }
        if (wake) cv.notify_one();
      });
      if (t0 >= deadline) {
        capped = true;
        break;
      }
    }
    {
      std::unique_lock<std::mutex> l(mu);
      waiting = true;
      cv.wait(l, [&] { return outstanding == 0; });
      waiting = false;
    }
    const auto end = Clock::now();
    if (!first_error.ok()) return first_error;
    RunStats r;
    r.threads = in_flight;
    r.seconds = std::chrono::duration<double>(end - start).count();
    r.ops = r.txs = r.entries = committed;
    r.bytes = st.bytes;
    r.capped = capped;
    r.hist.Merge(hist);
    Report(name, r, {.mb = true, .tx_entries = true}, f_.histogram);
    ReportCommitStats(name, before, store_->Stats());
    return Status::OK();
  }

  // Group-commit shape of a fill: txs per batch and the fsync rounds' cost.
  static void ReportCommitStats(const std::string& name, const Store::CommitStats& a,
                                const Store::CommitStats& b) {
    const uint64_t batches = b.batches - a.batches, txs = b.txs - a.txs;
    const uint64_t rounds = b.sync_rounds - a.sync_rounds, ns = b.sync_ns - a.sync_ns;
    if (batches == 0) return;
    std::printf(
        "%-16s: %llu batches, %.1f txs/batch; %llu fsync rounds, %.0f us/round; %llu taken by "
        "their publisher\n",
        (name + " commit").c_str(), static_cast<unsigned long long>(batches),
        static_cast<double>(txs) / static_cast<double>(batches),
        static_cast<unsigned long long>(rounds),
        rounds ? static_cast<double>(ns) / 1e3 / static_cast<double>(rounds) : 0.0,
        static_cast<unsigned long long>(b.publisher_leads - a.publisher_leads));
  }

  // --num entries in transactions of --batch entries with sequential keys.
  Status FillBatch(bool synced) {
    IMMUDB_RETURN_IF_ERROR(Open(synced));
    const uint64_t txs = std::max<uint64_t>(1, f_.num / f_.batch);
    const int threads = static_cast<int>(
        std::min<uint64_t>(txs, f_.batch_threads > 0 ? f_.batch_threads : f_.threads));
    const uint64_t base = store_->CurrentState().tx_id * f_.batch;  // Past earlier keys.
    auto op = [&](ThreadState& st, uint64_t i) -> Status {
      std::vector<EntrySpec> es(f_.batch);
      for (size_t e = 0; e < f_.batch; e++) {
        es[e].key = MakeKey(base + i * f_.batch + e, f_.key_size);
        es[e].value = values_.Get(st.rng);
        st.bytes += es[e].key.size() + es[e].value.size();
      }
      IMMUDB_RETURN_IF_ERROR(store_->Commit(std::move(es)).status());
      st.entries += f_.batch;
      st.txs++;
      return Status::OK();
    };
    IMMUDB_ASSIGN_OR_RETURN(RunStats r, RunOps(threads, txs, f_.duration, f_.seed, op));
    Report("fillbatch/" + std::to_string(f_.batch), r, {.mb = true, .tx_entries = true},
           f_.histogram);
    return Status::OK();
  }

  // Fills --num unsynced 1-entry txs when the store is empty, so the read
  // workloads also run on their own.
  Status EnsureFilled() {
    if (!store_) IMMUDB_RETURN_IF_ERROR(Open(false));
    if (store_->CurrentState().tx_id > 0) return Status::OK();
    std::printf("(store is empty: filling %" PRIu64 " unsynced txs first)\n", f_.num);
    return Fill("fillnosync", false, f_.threads, false);
  }

  // Random committed tx by id: header, entries and every value (checked).
  Status ReadTx() {
    IMMUDB_RETURN_IF_ERROR(EnsureFilled());
    const uint64_t last = store_->CurrentState().tx_id;
    auto op = [&](ThreadState& st, uint64_t) -> Status {
      IMMUDB_ASSIGN_OR_RETURN(Tx tx, store_->ReadTx(1 + st.rng.Uniform(last)));
      for (const TxEntry& e : tx.entries) {
        IMMUDB_ASSIGN_OR_RETURN(std::string v, store_->ReadValue(e));
        st.bytes += e.key.size() + v.size();
      }
      return Status::OK();
    };
    IMMUDB_ASSIGN_OR_RETURN(RunStats r, RunOps(read_threads(), f_.num, f_.duration, f_.seed, op));
    Report("readtx", r, {.mb = true}, f_.histogram);
    return Status::OK();
  }

  struct ProofCase {
    TxHeader source;
    TxHeader target;
    Hash source_alh{};
    Hash target_alh{};
  };

  // Up to kMaxPool random pairs (source id <= target id), headers and Alhs
  // read before timing, as a client holding both headers would have them.
  Result<std::vector<ProofCase>> ProofCases(uint64_t last) {
    static constexpr uint64_t kMaxPool = 4096;
    Rng rng(f_.seed ^ 0xd0a1);
    std::vector<ProofCase> cases(std::min<uint64_t>(kMaxPool, f_.num));
    for (ProofCase& c : cases) {
      uint64_t s = 1 + rng.Uniform(last), t = 1 + rng.Uniform(last);
      if (s > t) std::swap(s, t);
      IMMUDB_ASSIGN_OR_RETURN(c.source, store_->ReadTxHeader(s));
      IMMUDB_ASSIGN_OR_RETURN(c.target, store_->ReadTxHeader(t));
      IMMUDB_ASSIGN_OR_RETURN(c.source_alh, c.source.Alh());
      IMMUDB_ASSIGN_OR_RETURN(c.target_alh, c.target.Alh());
    }
    return cases;
  }

  // BuildDualProof over random pairs, then VerifyDualProof of the proofs.
  Status DualProof() {
    IMMUDB_RETURN_IF_ERROR(EnsureFilled());
    IMMUDB_ASSIGN_OR_RETURN(std::vector<ProofCase> cases, ProofCases(store_->CurrentState().tx_id));
    std::vector<immudb::DualProof> proofs(cases.size());
    auto build = [&](ThreadState&, uint64_t i) -> Status {
      const ProofCase& c = cases[i % cases.size()];
      IMMUDB_ASSIGN_OR_RETURN(immudb::DualProof p, store_->BuildDualProof(c.source, c.target));
      if (i < proofs.size()) proofs[i] = std::move(p);
      return Status::OK();
    };
    IMMUDB_ASSIGN_OR_RETURN(RunStats r,
                            RunOps(read_threads(), f_.num, f_.duration, f_.seed, build));
    Report("dualproof", r, {}, f_.histogram);
    const Store::CommitStats st = store_->Stats();
    std::printf("%-16s: AHT block cache %.1f MB, levels %d and up\n", "dualproof info",
                static_cast<double>(st.aht_cache_bytes) / 1e6, st.aht_cache_min_level);

    const uint64_t built = std::min<uint64_t>(r.ops, proofs.size());
    auto check = [&](ThreadState&, uint64_t i) -> Status {
      const ProofCase& c = cases[i % built];
      if (!verify::VerifyDualProof(proofs[i % built], c.source.id, c.target.id, c.source_alh,
                                   c.target_alh)) {
        return Status::Internal("dual proof " + std::to_string(c.source.id) + " -> " +
                                std::to_string(c.target.id) + " does not verify");
      }
      return Status::OK();
    };
    IMMUDB_ASSIGN_OR_RETURN(r, RunOps(read_threads(), f_.num, f_.duration, f_.seed, check));
    Report("verifydualproof", r, {}, f_.histogram);
    return Status::OK();
  }

  // Closes and reopens the store three times; reports the open times. When
  // the store is not open yet (an existing --db), its first open is reported
  // on its own: it is the one that may read from disk rather than the cache.
  Status Reopen() {
    if (!store_) {
      const auto t0 = Clock::now();
      IMMUDB_RETURN_IF_ERROR(Open(false));
      RunStats first;
      first.threads = 1;
      first.ops = 1;
      first.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
      first.hist.Add(static_cast<uint64_t>(first.seconds * 1e9));
      Report("open/first", first, {}, false);
    }
    IMMUDB_RETURN_IF_ERROR(EnsureFilled());
    double close_s = 0;
    RunStats r;
    r.threads = 1;
    for (int rep = 0; rep < 3; rep++) {
      const auto t0 = Clock::now();
      IMMUDB_RETURN_IF_ERROR(store_->Close());
      store_.reset();
      const auto t1 = Clock::now();
      IMMUDB_ASSIGN_OR_RETURN(store_, Store::Open(dir_, Options(store_synced_)));
      const auto t2 = Clock::now();
      close_s += std::chrono::duration<double>(t1 - t0).count();
      r.seconds += std::chrono::duration<double>(t2 - t1).count();
      r.hist.Add(static_cast<uint64_t>(std::chrono::nanoseconds(t2 - t1).count()));
      r.ops++;
    }
    Report("open", r, {}, f_.histogram);
    std::printf("%-16s: %" PRIu64 " txs in the store; mean close %.3f ms\n", "open info",
                store_->CurrentState().tx_id, close_s / r.ops * 1e3);
    return Status::OK();
  }

  const Flags f_;
  const std::string dir_;
  const ValueSource values_;
  std::unique_ptr<Store> store_;
  bool store_synced_ = true;
  DbWorkloads db_;
};

std::string MakeTempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "immudb-bench-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) return "";
  return tmpl;
}

void PrintHeader(const Flags& f, const std::string& dir) {
  std::printf(
      "immudb-bench: keys %zu bytes, values %zu bytes, num %" PRIu64
      ", threads %d, read threads %d, batch %zu, duration cap %.0f s\n",
      f.key_size, f.value_size, f.num, f.threads,
      f.read_threads > 0 ? f.read_threads : static_cast<int>(std::thread::hardware_concurrency()),
      f.batch, f.duration);
  StoreOptions defaults;
  std::printf("store: %s; CPUs: %u; unsynced sync interval %lld ms\n", dir.c_str(),
              std::thread::hardware_concurrency(),
              static_cast<long long>(f.sync_interval_ms >= 0 ? f.sync_interval_ms
                                                             : defaults.unsynced_sync_interval_ms));
  std::printf("us/op = wall time / ops; latency = time of each single op, all threads\n");
  std::printf("-------------------------------------------------------------------------\n");
  std::fflush(stdout);
}

int Main(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; i++) {
    const std::string_view a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (!ParseFlag(a, &f)) {
      std::fprintf(stderr, "immudb-bench: bad flag %s\n%s", argv[i], kUsage);
      return 2;
    }
  }
  const bool temp = f.db.empty();
  const std::string dir = temp ? MakeTempDir() : f.db;
  if (dir.empty()) {
    std::fprintf(stderr, "immudb-bench: cannot create a temp dir: %s\n", std::strerror(errno));
    return 1;
  }
  PrintHeader(f, dir);
  Status s;
  {
    Benchmark b(f, dir);
    s = b.Run();
  }
  std::printf("peak RSS: %.1f MB (current %.1f MB)\n", PeakRssKb() / 1024.0,
              CurrentRssKb() / 1024.0);
  if (temp && !f.keep) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  } else {
    std::printf("store kept in %s\n", dir.c_str());
  }
  if (!s.ok()) {
    std::fprintf(stderr, "immudb-bench: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace immudb::bench

int main(int argc, char** argv) { return immudb::bench::Main(argc, argv); }
