// OpBreakdown: for --breakdown, the parts of every timed call (the engine's
// OpPhase timers, engine/util/op_phases.h) with the calling thread's CPU time,
// context switches and page faults over the call, and a report of where the
// median calls and the slowest 1% spend their time. Included by
// db_workloads.h only.
#pragma once

#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "immudb/status.h"
#include "util/op_phases.h"

namespace immudb::bench {

struct OpSample {
  uint64_t total_ns = 0;
  uint64_t cpu_ns = 0;  // The thread's CPU time over the call.
  uint32_t vcsw = 0;    // Voluntary context switches (blocking: I/O, locks).
  uint32_t ivcsw = 0;   // Involuntary ones (preemption).
  uint32_t majflt = 0;
  uint32_t minflt = 0;
  OpPhaseTimes phases;

  // The time outside every timed part.
  uint64_t other_ns() const {
    uint64_t sum = 0;
    for (uint64_t ns : phases.ns) sum += ns;
    return total_ns > sum ? total_ns - sum : 0;
  }
};

class OpBreakdown {
 public:
  static constexpr int kPhases = static_cast<int>(OpPhase::kCount);

  // Runs fn() (returning Status) with the calling thread's phase timers on and
  // keeps its sample under `thread_key` (one key per thread).
  template <class Fn>
  Status Measure(const void* thread_key, Fn&& fn) {
    std::vector<OpSample>* mine;
    {
      std::lock_guard<std::mutex> g(mu_);
      mine = &samples_[thread_key];
    }
    OpSample s;
    rusage r0{}, r1{};
    getrusage(RUSAGE_THREAD, &r0);
    const uint64_t cpu0 = ThreadCpuNs();
    OpPhaseTimes* old = SetOpPhaseSink(&s.phases);
    const auto t0 = std::chrono::steady_clock::now();
    Status st = fn();
    const auto t1 = std::chrono::steady_clock::now();
    SetOpPhaseSink(old);
    const uint64_t cpu1 = ThreadCpuNs();
    getrusage(RUSAGE_THREAD, &r1);
    s.total_ns = static_cast<uint64_t>(std::chrono::nanoseconds(t1 - t0).count());
    s.cpu_ns = cpu1 - cpu0;
    s.vcsw = static_cast<uint32_t>(r1.ru_nvcsw - r0.ru_nvcsw);
    s.ivcsw = static_cast<uint32_t>(r1.ru_nivcsw - r0.ru_nivcsw);
    s.majflt = static_cast<uint32_t>(r1.ru_majflt - r0.ru_majflt);
    s.minflt = static_cast<uint32_t>(r1.ru_minflt - r0.ru_minflt);
    mine->push_back(s);
    return st;
  }

  // Prints, for the calls between the 40th and 60th percentile and for the
  // slowest 1% (by total time), the mean time of each part, of the rest
  // ("other") and the thread's CPU time, the context switches and faults per
  // call, and how many of the slowest 1% had each part as their largest.
  void Print(const std::string& name) const {
    std::vector<OpSample> all;
    for (const auto& [key, v] : samples_) all.insert(all.end(), v.begin(), v.end());
    if (all.empty()) return;
    std::sort(all.begin(), all.end(),
              [](const OpSample& a, const OpSample& b) { return a.total_ns < b.total_ns; });
    const size_t n = all.size();
    auto at = [&](double p) { return std::min(n - 1, static_cast<size_t>(p / 100.0 * n)); };
    std::printf("%s breakdown, %zu calls, mean us per call (cpu = the thread's CPU time):\n",
                name.c_str(), n);
    PrintGroup("p40-p60", all, at(40), at(60) + 1, false);
    PrintGroup("p99-p100", all, at(99), n, true);
    std::fflush(stdout);
  }

 private:
  static uint64_t ThreadCpuNs() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
  }

  static void PrintGroup(const char* label, const std::vector<OpSample>& all, size_t from,
                         size_t to, bool dominant) {
    if (from >= to) return;
    const double count = static_cast<double>(to - from);
    double total = 0, cpu = 0, other = 0, vcsw = 0, ivcsw = 0, majflt = 0, minflt = 0;
    double log_reads = 0, block_reads = 0, cache_hits = 0;
    double part[kPhases] = {};
    size_t largest[kPhases + 1] = {};  // The last slot: "other".
    size_t preempted = 0, blocked = 0, faulted = 0;
    for (size_t i = from; i < to; i++) {
      const OpSample& s = all[i];
      total += static_cast<double>(s.total_ns);
      cpu += static_cast<double>(s.cpu_ns);
      other += static_cast<double>(s.other_ns());
      vcsw += s.vcsw;
      ivcsw += s.ivcsw;
      majflt += s.majflt;
      minflt += s.minflt;
      log_reads += s.phases.log_reads;
      block_reads += s.phases.index_block_reads;
      cache_hits += s.phases.index_cache_hits;
      preempted += s.ivcsw > 0;
      blocked += s.vcsw > 0;
      faulted += s.majflt > 0;
      int top = kPhases;
      uint64_t top_ns = s.other_ns();
      for (int p = 0; p < kPhases; p++) {
        part[p] += static_cast<double>(s.phases.ns[p]);
        if (s.phases.ns[p] > top_ns) {
          top_ns = s.phases.ns[p];
          top = p;
        }
      }
      largest[top]++;
    }
    std::printf("  %-9s total %8.1f  cpu %8.1f |", label, total / count / 1e3, cpu / count / 1e3);
    for (int p = 0; p < kPhases; p++) {
      std::printf(" %s %.1f", kOpPhaseNames[p], part[p] / count / 1e3);
    }
    std::printf(" other %.1f | vcsw %.2f ivcsw %.2f majflt %.2f minflt %.2f\n", other / count / 1e3,
                vcsw / count, ivcsw / count, majflt / count, minflt / count);
    std::printf("  %-9s log reads %.2f, index blocks read %.2f, index block cache hits %.2f\n", "",
                log_reads / count, block_reads / count, cache_hits / count);
    if (!dominant) return;
    std::printf("  %-9s largest part:", "");
    for (int p = 0; p <= kPhases; p++) {
      if (largest[p] == 0) continue;
      std::printf(" %s %zu", p < kPhases ? kOpPhaseNames[p] : "other", largest[p]);
    }
    std::printf("; calls preempted %zu, blocked %zu, with a major fault %zu\n", preempted, blocked,
                faulted);
  }

  mutable std::mutex mu_;
  std::map<const void*, std::vector<OpSample>> samples_;
};

}  // namespace immudb::bench
