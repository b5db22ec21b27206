// WriteGate: orders the writers of one database.
//
// Plain writes enter shared, so many of them commit together (group commit).
// A write that reads the state it depends on (preconditions, references,
// sorted-set members, deletes) enters exclusive: no other commit runs between
// its check and its own commit. Exclusive entry is preferred: once a writer
// waits for it, new shared writers wait too, so a steady stream of plain
// writes cannot starve it.
//
// Thread-safety: thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace immudb::database {

class WriteGate {
 public:
  void LockShared() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [this] { return !exclusive_ && exclusive_waiting_ == 0; });
    shared_++;
  }
  // LockShared if it need not wait; false otherwise.
  bool TryLockShared() {
    std::lock_guard<std::mutex> l(mu_);
    if (exclusive_ || exclusive_waiting_ > 0) return false;
    shared_++;
    return true;
  }
  // May run on another thread than the LockShared it ends.
  void UnlockShared() {
    std::lock_guard<std::mutex> l(mu_);
    if (--shared_ == 0) cv_.notify_all();
  }
  void Lock() {
    std::unique_lock<std::mutex> l(mu_);
    exclusive_waiting_++;
    cv_.wait(l, [this] { return !exclusive_ && shared_ == 0; });
    exclusive_waiting_--;
    exclusive_ = true;
  }
  void Unlock() {
    std::lock_guard<std::mutex> l(mu_);
    exclusive_ = false;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t shared_ = 0;             // GUARDED_BY(mu_)
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
