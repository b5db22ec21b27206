#include "server/blocking_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace immudb::server {
namespace {

// A gate the submitted work blocks on until the test opens it.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  int waiting = 0;
  void Wait() {
    std::unique_lock<std::mutex> l(mu);
    waiting++;
    cv.notify_all();
    cv.wait(l, [this] { return open; });
  }
  void WaitForWaiters(int n) {
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [&] { return waiting >= n; });
  }
  void Open() {
    std::lock_guard<std::mutex> l(mu);
    open = true;
    cv.notify_all();
  }
};

TEST(BlockingPoolTest, BlockedWorkGetsThreadsUpToTheBoundThenQueues) {
  Gate gate;
  std::atomic<int> done{0};
  {
    BlockingPool pool(4);
    for (int i = 0; i < 10; i++) {
      pool.Submit([&] {
        gate.Wait();
        done++;
      });
    }
    gate.WaitForWaiters(4);  // Four run at once: one thread each.
    EXPECT_EQ(pool.threads(), 4u);
    EXPECT_EQ(done.load(), 0);
    gate.Open();
  }  // The destructor runs the six queued ones, then joins.
  EXPECT_EQ(done.load(), 10);
}

TEST(BlockingPoolTest, IdleThreadsAreReusedNotMultiplied) {
  BlockingPool pool(64);
  std::set<std::thread::id> ids;
  std::mutex mu;
  for (int i = 0; i < 200; i++) {
    std::atomic<bool> ran{false};
    pool.Submit([&] {
      std::lock_guard<std::mutex> l(mu);
      ids.insert(std::this_thread::get_id());
      ran = true;
    });
    while (!ran) std::this_thread::yield();
  }
  // One call at a time: a thread that finished is reused. (A new one starts
  // only when every thread is still on its way back from the previous call,
  // which a loaded machine allows now and then, never 200 times.)
  EXPECT_LE(pool.threads(), 16u);
  EXPECT_EQ(ids.size(), pool.threads());
}

}  // namespace
}  // namespace immudb::server
