// Shared pieces of immudb-bench: flags, key and value generators, the
// multi-threaded op runner and the report line. Included by immudb_bench.cc
// and db_workloads.h only (one translation unit).
#pragma once

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <latch>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "histogram.h"  // bench/histogram.h, beside this file.
#include "immudb/result.h"
#include "immudb/status.h"

namespace immudb::bench {

using Clock = std::chrono::steady_clock;

struct Flags {
  std::string benchmarks = "fillsync,fillnosync,fillbatch,readtx,dualproof,open";
  uint64_t num = 100000;
  int threads = 128;
  int read_threads = 0;   // 0: the number of CPUs.
  int batch_threads = 0;  // 0: --threads.
  size_t key_size = 16;
  size_t value_size = 100;
  size_t batch = 1000;
  std::string db;
  bool keep = false;
  int sync = -1;          // -1: the workload's default.
  double duration = 120;  // Seconds per workload; 0 means no cap.
  bool histogram = false;
  uint64_t seed = 301;
  int64_t sync_interval_ms = -1;       // -1: the store's default.
  bool index_wait = false;             // Database fills: wait for the index.
  int64_t inline_value_bytes = -1;     // -1: DatabaseOptions' default.
  int64_t index_write_buffer_mb = -1;  // -1: DatabaseOptions' default.
  bool breakdown = false;              // verifiableget: per-part timing of each call.
  int64_t index_block_cache_mb = -1;   // -1: DatabaseOptions' default.
  int64_t value_map_mb = -1;           // -1: StoreOptions' default.
  uint64_t memlat_mb = 2048;           // memlat: the large working set.
};

// splitmix64: small, fast and good enough for keys, ids and offsets.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t Next() {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n); REQUIRES: n > 0.
  uint64_t Uniform(uint64_t n) { return Next() % n; }

 private:
  uint64_t s_;
};

// Fixed-size keys: the decimal number, zero-padded on the left to key_size
// (only its last key_size digits when it is longer).
inline std::string MakeKey(uint64_t n, size_t key_size) {
  std::string k(key_size, '0');
  for (size_t i = key_size; i > 0 && n > 0; i--, n /= 10)
    k[i - 1] = static_cast<char>('0' + n % 10);
  return k;
}

// Random value bytes: slices at random offsets of a buffer of random bytes.
class ValueSource {
 public:
  ValueSource(size_t value_size, uint64_t seed) : size_(value_size) {
    Rng rng(seed);
    buf_.resize(std::max<size_t>(1 << 20, 4 * value_size) + 8);
    for (size_t i = 0; i + 8 <= buf_.size(); i += 8) {
      const uint64_t r = rng.Next();
      std::memcpy(&buf_[i], &r, 8);
    }
  }
  std::string Get(Rng& rng) const {
    return std::string(buf_.data() + rng.Uniform(buf_.size() - size_ + 1), size_);
  }

 private:
  size_t size_;
  std::string buf_;
};

struct ThreadState {
  explicit ThreadState(uint64_t seed) : rng(seed) {}
  Rng rng;
  LatencyHistogram hist;
  uint64_t ops = 0;
  uint64_t bytes = 0;
  uint64_t entries = 0;
  uint64_t txs = 0;
};

struct RunStats {
  int threads = 0;
  double seconds = 0;
  uint64_t ops = 0;
  uint64_t bytes = 0;
  uint64_t entries = 0;
  uint64_t txs = 0;
  bool capped = false;  // Stopped by --duration.
  LatencyHistogram hist;
};

using OpFn = std::function<Status(ThreadState&, uint64_t)>;

// Runs `total` calls of op(state, i), i in [0, total), on `threads` threads
// that take the next index from a shared counter; times every call. Stops at
// the first error (returned) or when `duration` seconds have passed.
inline Result<RunStats> RunOps(int threads, uint64_t total, double duration, uint64_t seed,
                               const OpFn& op) {
  std::atomic<uint64_t> next{0};
  std::atomic<bool> stop{false};
  std::atomic<bool> capped{false};
  std::mutex err_mu;
  Status first_error;
  std::vector<std::unique_ptr<ThreadState>> states;
  for (int t = 0; t < threads; t++) {
    states.push_back(std::make_unique<ThreadState>(seed * 7919 + static_cast<uint64_t>(t)));
  }
  std::latch ready(threads + 1);
  std::latch go(1);
  Clock::time_point deadline = Clock::time_point::max();
  auto body = [&](ThreadState& st) {
    ready.count_down();
    go.wait();
    while (!stop.load(std::memory_order_relaxed)) {
      const uint64_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= total) break;
      const auto t0 = Clock::now();
      Status s = op(st, i);
      const auto t1 = Clock::now();
      st.hist.Add(static_cast<uint64_t>(std::chrono::nanoseconds(t1 - t0).count()));
      st.ops++;
      if (!s.ok()) {
        std::lock_guard<std::mutex> g(err_mu);
        if (first_error.ok()) first_error = s;
        stop = true;
      } else if (t1 >= deadline) {
        capped = true;
        stop = true;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; t++) pool.emplace_back(body, std::ref(*states[t]));
  ready.arrive_and_wait();
  const auto start = Clock::now();
  if (duration > 0) {
    deadline = start +
               std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(duration));
  }
  go.count_down();
  for (auto& th : pool) th.join();
  const auto end = Clock::now();
  if (!first_error.ok()) return first_error;

  RunStats r;
  r.threads = threads;
  r.seconds = std::chrono::duration<double>(end - start).count();
  r.capped = capped;
  for (const auto& st : states) {
    r.ops += st->ops;
    r.bytes += st->bytes;
    r.entries += st->entries;
    r.txs += st->txs;
    r.hist.Merge(st->hist);
  }
  return r;
}

inline uint64_t CurrentRssKb() {
  std::ifstream f("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  f >> size >> resident;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE)) / 1024;
}

inline uint64_t PeakRssKb() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<uint64_t>(ru.ru_maxrss);
}

// What a report line shows beyond ops/s and latencies.
struct ReportKind {
  bool mb = false;
  bool tx_entries = false;
};

inline void Report(const std::string& name, const RunStats& r, ReportKind kind, bool histogram) {
  const double secs = r.seconds > 0 ? r.seconds : 1e-9;
  const double ops_s = static_cast<double>(r.ops) / secs;
  std::printf("%-16s: %11.3f us/op; %12.0f ops/s;", name.c_str(),
              r.ops ? secs * 1e6 / static_cast<double>(r.ops) : 0.0, ops_s);
  if (kind.mb) std::printf(" %8.1f MB/s;", static_cast<double>(r.bytes) / secs / 1048576.0);
  if (kind.tx_entries && r.txs > 0) std::printf(" %10.0f tx/s;", static_cast<double>(r.txs) / secs);
  if (kind.tx_entries) std::printf(" %11.0f entries/s;", static_cast<double>(r.entries) / secs);
  std::printf(" latency us p50 %.1f p99 %.1f max %.1f; %" PRIu64
              " ops in %.3f s, %d threads%s; RSS %.1f MB\n",
              r.hist.Percentile(50) / 1e3, r.hist.Percentile(99) / 1e3,
              static_cast<double>(r.hist.max()) / 1e3, r.ops, r.seconds, r.threads,
              r.capped ? " (stopped by --duration)" : "", CurrentRssKb() / 1024.0);
  if (histogram) r.hist.Print(stdout);
  std::fflush(stdout);
}

}  // namespace immudb::bench
