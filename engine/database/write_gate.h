// WriteGate: orders the writers of one database.
//
// Plain writes enter shared, so many of them commit together (group commit).
// A write that reads the state it depends on (preconditions, references,
// sorted-set members, deletes) enters exclusive: no other commit runs between
// its check and its own commit. Exclusive entry is preferred: once a writer
// waits for it, new shared writers wait too, so a steady stream of plain
// writes cannot starve it.
//
// Shared entry and exit are one atomic operation on a word that holds the
// shared count and an "exclusive wanted" bit; the mutex is taken only while
// that bit is set. A hundred writers entering and leaving together (the
// writers a commit round wakes) then do not queue on one mutex.
//
// Thread-safety: thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace immudb::database {

class WriteGate {
 public:
  void LockShared() {
    while (!TryLockShared()) {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [this] { return (state_.load(std::memory_order_acquire) & kExclusive) == 0; });
    }
  }
  // LockShared if it need not wait; false otherwise.
  bool TryLockShared() {
    uint64_t s = state_.load(std::memory_order_relaxed);
    while ((s & kExclusive) == 0) {
      if (state_.compare_exchange_weak(s, s + 1, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        return true;
      }
    }
    return false;
  }
  // May run on another thread than the LockShared it ends.
  void UnlockShared() {
    const uint64_t s = state_.fetch_sub(1, std::memory_order_release) - 1;
    if (s == kExclusive) {
      // The last shared holder leaves while an exclusive writer waits. Taking
      // the mutex orders this notify after the waiter's check of the count.
      std::lock_guard<std::mutex> l(mu_);
      cv_.notify_all();
    }
  }
  void Lock() {
    std::unique_lock<std::mutex> l(mu_);
    exclusive_waiting_++;
    // From here on no new shared holder enters.
    state_.fetch_or(kExclusive, std::memory_order_relaxed);
    cv_.wait(
        l, [this] { return !exclusive_ && state_.load(std::memory_order_acquire) == kExclusive; });
    exclusive_waiting_--;
    exclusive_ = true;
  }
  void Unlock() {
    std::lock_guard<std::mutex> l(mu_);
    exclusive_ = false;
    if (exclusive_waiting_ == 0) state_.fetch_and(~kExclusive, std::memory_order_release);
    cv_.notify_all();
  }

 private:
  static constexpr uint64_t kExclusive = uint64_t{1} << 63;

  // Shared holders in the low bits; kExclusive while an exclusive writer
  // holds the gate or waits for it (set and cleared under mu_).
  std::atomic<uint64_t> state_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t exclusive_waiting_ = 0;  // GUARDED_BY(mu_)
  bool exclusive_ = false;          // GUARDED_BY(mu_)
};

// Holds a WriteGate, shared or exclusive, for a scope.
class WriteGuard {
 public:
  WriteGuard(WriteGate* gate, bool exclusive) : gate_(gate), exclusive_(exclusive) {
    exclusive_ ? gate_->Lock() : gate_->LockShared();
  }
  ~WriteGuard() { exclusive_ ? gate_->Unlock() : gate_->UnlockShared(); }
  WriteGuard(const WriteGuard&) = delete;
  WriteGuard& operator=(const WriteGuard&) = delete;

 private:
  WriteGate* gate_;
  bool exclusive_;
};

}  // namespace immudb::database
