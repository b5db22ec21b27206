// OpPhases: optional per-thread timing of the parts of a read (the index
// lookup, the value read, the tx read, the proofs), for a latency breakdown of
// slow calls. Off unless a thread installs a sink: then every PhaseScope on that
// thread adds its elapsed nanoseconds to the sink's slot for its phase. When
// off, a scope costs one thread-local load.
//
// Scopes are meant for leaves of the call tree: a scope inside another counts
// its time in both phases.
#pragma once

#include <time.h>

#include <cstdint>

namespace immudb {

enum class OpPhase : int {
  kIndex = 0,    // Key index lookup (RocksDB Get).
  kValue,        // Value read from the log and its hash check.
  kTx,           // Tx read (commit records, tx record, Eh and Alh checks).
  kTxHeader,     // Header of the trusted tx.
  kAhtProof,     // AHT inclusion and consistency proof terms.
  kLinearProof,  // The dual proof's Alh and linear proof terms.
  kInclusion,    // The htree inclusion proof of the entry in its tx.
  kCount,
};

inline constexpr const char* kOpPhaseNames[] = {"index", "value",  "tx",       "header",
                                                "aht",   "linear", "inclusion"};
static_assert(sizeof(kOpPhaseNames) / sizeof(kOpPhaseNames[0]) ==
              static_cast<int>(OpPhase::kCount));

struct OpPhaseTimes {
  uint64_t ns[static_cast<int>(OpPhase::kCount)] = {};
  uint32_t log_reads = 0;          // Reads of the store's logs (a system call each).
  uint32_t index_block_reads = 0;  // Blocks RocksDB read from its files.
  uint32_t index_cache_hits = 0;   // Blocks RocksDB found in its block cache.
};

namespace op_phases_internal {
// The calling thread's sink; null turns timing off.
inline thread_local OpPhaseTimes* sink = nullptr;

inline uint64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}
}  // namespace op_phases_internal

// The calling thread's sink, or null.
inline OpPhaseTimes* CurrentOpPhaseSink() { return op_phases_internal::sink; }

// Counts a read of a store log on the calling thread's sink, if any.
inline void CountOpLogRead() {
  if (op_phases_internal::sink != nullptr) op_phases_internal::sink->log_reads++;
}

// Installs `times` (or null) as the calling thread's sink; returns the old one.
inline OpPhaseTimes* SetOpPhaseSink(OpPhaseTimes* times) {
  OpPhaseTimes* old = op_phases_internal::sink;
  op_phases_internal::sink = times;
  return old;
}

class PhaseScope {
 public:
  explicit PhaseScope(OpPhase phase) : sink_(op_phases_internal::sink) {
    if (sink_ != nullptr) {
      phase_ = static_cast<int>(phase);
      start_ = op_phases_internal::NowNs();
    }
  }
  ~PhaseScope() {
    if (sink_ != nullptr) sink_->ns[phase_] += op_phases_internal::NowNs() - start_;
  }
  PhaseScope(const PhaseScope&) = delete;
  PhaseScope& operator=(const PhaseScope&) = delete;

 private:
  OpPhaseTimes* sink_;
  int phase_ = 0;
  uint64_t start_ = 0;
};

}  // namespace immudb
