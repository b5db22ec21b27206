// LatencyHistogram: a fixed-size, log-linear histogram of nanosecond
// latencies for the benchmark tool. Values below 64 ns have their own bucket;
// above, each power of two is split into 32 equal sub-buckets, so a reported
// percentile is within about 3% of the true value. Memory is constant
// (kNumBuckets counters) whatever the number of samples.
//
// Thread-compatible: one histogram per thread, merged after the run.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstdio>
#include <limits>

namespace immudb::bench {

class LatencyHistogram {
 public:
  static constexpr int kSubBits = 5;  // 32 sub-buckets per power of two.
  static constexpr int kSub = 1 << kSubBits;
  static constexpr int kLinear = 2 * kSub;  // Values [0, 64) are exact.
  static constexpr int kNumBuckets = kLinear + (64 - kSubBits - 1) * kSub;

  void Add(uint64_t ns) {
    counts_[BucketOf(ns)]++;
    count_++;
    sum_ += ns;
    min_ = std::min(min_, ns);
    max_ = std::max(max_, ns);
  }

  void Merge(const LatencyHistogram& o) {
    for (int i = 0; i < kNumBuckets; i++) counts_[i] += o.counts_[i];
    count_ += o.count_;
    sum_ += o.sum_;
    min_ = std::min(min_, o.min_);
    max_ = std::max(max_, o.max_);
  }

  uint64_t count() const { return count_; }
  uint64_t max() const { return count_ ? max_ : 0; }
  uint64_t min() const { return count_ ? min_ : 0; }
  double mean() const { return count_ ? static_cast<double>(sum_) / count_ : 0.0; }

  // The latency at or below which `p` percent of the samples fall (the
  // midpoint of the bucket holding that rank, clamped to [min, max]).
  double Percentile(double p) const {
    if (count_ == 0) return 0;
    const double rank = p / 100.0 * static_cast<double>(count_);
    uint64_t seen = 0;
    for (int i = 0; i < kNumBuckets; i++) {
      seen += counts_[i];
      if (counts_[i] > 0 && static_cast<double>(seen) >= rank) {
        const double mid = (static_cast<double>(Lower(i)) + static_cast<double>(Upper(i))) / 2;
        return std::clamp(mid, static_cast<double>(min_), static_cast<double>(max_));
      }
    }
    return static_cast<double>(max_);
  }

  // Prints the non-empty buckets, merged to 4 rows per power of two, in
  // microseconds with count, percentage and cumulative percentage.
  void Print(FILE* out) const {
    std::fprintf(out, "  %14s %14s %10s %7s %7s\n", "from us", "to us", "count", "%", "cum %");
    uint64_t cum = 0;
    const int group = kSub / 4;
    for (int i = 0; i < kNumBuckets;) {
      const int span = i < kLinear ? 8 : group;
      uint64_t n = 0;
      for (int j = i; j < i + span && j < kNumBuckets; j++) n += counts_[j];
      const int last = std::min(i + span, kNumBuckets) - 1;
      if (n > 0) {
        cum += n;
        std::fprintf(out, "  %14.3f %14.3f %10llu %7.3f %7.3f\n", Lower(i) / 1e3, Upper(last) / 1e3,
                     static_cast<unsigned long long>(n), 100.0 * n / count_, 100.0 * cum / count_);
      }
      i = last + 1;
    }
  }

 private:
  static int BucketOf(uint64_t v) {
    if (v < static_cast<uint64_t>(kLinear)) return static_cast<int>(v);
    const int e = std::bit_width(v) - 1;  // >= kSubBits + 1
    const int sub = static_cast<int>((v >> (e - kSubBits)) & (kSub - 1));
    return kLinear + (e - kSubBits - 1) * kSub + sub;
  }
  // Smallest value of bucket i.
  static uint64_t Lower(int i) {
    if (i < kLinear) return static_cast<uint64_t>(i);
    const int e = (i - kLinear) / kSub + kSubBits + 1;
    const uint64_t sub = static_cast<uint64_t>((i - kLinear) % kSub);
    return (uint64_t{1} << e) + (sub << (e - kSubBits));
  }
  // Largest value of bucket i.
  static uint64_t Upper(int i) {
    return i + 1 < kNumBuckets ? Lower(i + 1) - 1 : std::numeric_limits<uint64_t>::max();
  }

  std::array<uint64_t, kNumBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = std::numeric_limits<uint64_t>::max();
  uint64_t max_ = 0;
};

}  // namespace immudb::bench
