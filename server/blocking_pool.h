// BlockingPool: long-lived threads for gRPC handlers that block (a synced
// write waits for its fsync and its index update). The callback API runs
// handlers on gRPC's few event threads, which must not block; a handler hands
// its work to this pool and finishes its reactor from there.
//
// Threads start on demand, up to `max_threads`, and stay until the pool is
// destroyed, so a burst of concurrent writes does not create and destroy a
// thread per call. Work submitted while every thread is busy and the bound is
// reached waits in FIFO order.
//
// Thread-safe. The destructor runs the work already submitted, then joins.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace immudb::server {

class BlockingPool {
 public:
  explicit BlockingPool(size_t max_threads);
  ~BlockingPool();
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  void Submit(std::function<void()> work);

  // Threads started so far.
  size_t threads() const;

 private:
  void Loop();

  const size_t max_threads_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // Guarded by mu_.
  size_t idle_ = 0;                          // Threads waiting for work. Guarded by mu_.
  bool stopping_ = false;                    // Guarded by mu_.
  std::vector<std::thread> threads_;         // Guarded by mu_.
};

}  // namespace immudb::server
