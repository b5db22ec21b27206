// The machine under the benchmarks: what a first touch of fresh memory and a
// random load from a large working set cost here. Reads over millions of keys
// spend most of their time in such loads (the index's blocks, the page cache
// of the logs), so their figures are comparable only between machines, or
// moments of one VM, where these costs agree (docs/benchmarks.md).
#pragma once

#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "bench_runner.h"  // Rng.
#include "immudb/result.h"

namespace immudb::bench {

// Loads per timed op: about what a VerifiableGet at 10M keys adds to one at
// 10k in loads that miss the CPU's caches (its median call is ~10 µs longer
// on a VM where such a load costs ~370 ns; docs/benchmarks.md).
inline constexpr uint64_t kLoadsPerOp = 40;

struct MemoryCosts {
  double touch_us = 0;  // First touch of a fresh 4 KiB page (the page fault).
  double load_ns = 0;   // One load of a random 64-byte line, each load's address
                        // taken from the line before (no overlap).
  // The same chain cut into ops of kLoadsPerOp loads, each timed: the
  // median and the 99th percentile of an op, in µs. Fixed work, so their
  // ratio is the machine's own tail for reads made of such loads.
  double op_p50_us = 0;
  double op_p99_us = 0;
};

// Maps `bytes` of fresh anonymous memory, asking for transparent huge pages
// when `huge` (a request only: the kernel may refuse), touches every 4 KiB of
// it once, links its 64-byte lines into one random cycle and follows the
// cycle for `loads` steps, timing every kLoadsPerOp of them.
inline Result<MemoryCosts> MeasureMemory(size_t bytes, bool huge, uint64_t loads, uint64_t seed) {
  using Clock = std::chrono::steady_clock;
  constexpr size_t kLine = 64;
  constexpr size_t kPage = 4096;
  const size_t lines = bytes / kLine;
  if (lines < 2 || lines > UINT32_MAX) return Status::InvalidArgument("memory probe size");
  void* mem = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return Status::IOError("mmap of the memory probe failed");
  (void)madvise(mem, bytes, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
  auto* base = static_cast<char*>(mem);
  MemoryCosts c;
  auto t0 = Clock::now();
  for (size_t off = 0; off < bytes; off += kPage) base[off] = 1;
  c.touch_us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count() /
               static_cast<double>((bytes + kPage - 1) / kPage);
  // A random order of the lines, each pointing at the next, the last at the
  // first: one cycle through all of them.
  std::vector<uint32_t> order(lines);
  std::iota(order.begin(), order.end(), 0u);
  Rng rng(seed);
  for (size_t i = lines - 1; i > 0; i--) std::swap(order[i], order[rng.Uniform(i + 1)]);
  for (size_t i = 0; i < lines; i++) {
    const uint64_t next = uint64_t{order[(i + 1) % lines]} * kLine;
    *reinterpret_cast<uint64_t*>(base + size_t{order[i]} * kLine) = next;
  }
  uint64_t at = uint64_t{order[0]} * kLine;
  const uint64_t ops = std::max<uint64_t>(loads / kLoadsPerOp, 1);
  std::vector<uint64_t> op_ns(ops);
  t0 = Clock::now();
  for (uint64_t op = 0; op < ops; op++) {
    const auto s0 = Clock::now();
    for (uint64_t i = 0; i < kLoadsPerOp; i++) at = *reinterpret_cast<const uint64_t*>(base + at);
    op_ns[op] = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - s0).count());
  }
  c.load_ns = std::chrono::duration<double, std::nano>(Clock::now() - t0).count() /
              static_cast<double>(ops * kLoadsPerOp);
  munmap(mem, bytes);
  std::sort(op_ns.begin(), op_ns.end());
  c.op_p50_us = static_cast<double>(op_ns[ops / 2]) / 1e3;
  c.op_p99_us = static_cast<double>(op_ns[std::min(ops - 1, ops * 99 / 100)]) / 1e3;
  // `at` is a line's offset whatever the path: a value out of range means
  // the chain was not followed as written.
  if (at % kLine != 0 || at >= bytes) return Status::Internal("memory probe chain broken");
  return c;
}

// --benchmarks=memlat: the costs above for `mb` MiB with 4 KiB pages and
// with transparent huge pages, and the load cost for 16 MiB, which a cache
// or the TLB of most machines still covers in part; then the median and the
// p99 of ops of kLoadsPerOp loads over both sizes with 4 KiB pages: how
// much wider the tail of such loads is over the large set than over the
// small one, on top of the slower median.
inline Status MemoryCheck(uint64_t mb, uint64_t seed) {
  constexpr uint64_t kLoads = 4'000'000;
  const size_t bytes = static_cast<size_t>(mb) << 20;
  IMMUDB_ASSIGN_OR_RETURN(MemoryCosts small, MeasureMemory(16 << 20, false, kLoads, seed));
  IMMUDB_ASSIGN_OR_RETURN(MemoryCosts pages, MeasureMemory(bytes, false, kLoads, seed));
  IMMUDB_ASSIGN_OR_RETURN(MemoryCosts huge, MeasureMemory(bytes, true, kLoads, seed));
  std::printf("%-16s: %" PRIu64
              " MiB of fresh memory: 4 KiB pages: first touch %.2f us/page, random load "
              "%.1f ns; huge pages asked: first touch %.2f us/4 KiB, random load %.1f ns; "
              "16 MiB: random load %.1f ns\n",
              "memlat", mb, pages.touch_us, pages.load_ns, huge.touch_us, huge.load_ns,
              small.load_ns);
  std::printf("%-16s: ops of %" PRIu64 " random loads, p50 / p99 in us: %" PRIu64
              " MiB %.2f / %.2f (p99/p50 %.2f), 16 MiB %.2f / %.2f (p99/p50 %.2f); "
              "p99 %" PRIu64 " MiB / p99 16 MiB %.2f\n",
              "memlat ops", kLoadsPerOp, mb, pages.op_p50_us, pages.op_p99_us,
              pages.op_p99_us / pages.op_p50_us, small.op_p50_us, small.op_p99_us,
              small.op_p99_us / small.op_p50_us, mb, pages.op_p99_us / small.op_p99_us);
  return Status::OK();
}

}  // namespace immudb::bench
