#include "database/write_gate.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace immudb::database {
namespace {

using namespace std::chrono_literals;

TEST(WriteGateTest, SharedHoldersEnterTogetherAndExclusiveWaitsForThem) {
  WriteGate gate;
  gate.LockShared();
  ASSERT_TRUE(gate.TryLockShared());
  std::atomic<bool> got{false};
  std::thread ex([&] {
    gate.Lock();
    got = true;
    gate.Unlock();
  });
  std::this_thread::sleep_for(20ms);
  EXPECT_FALSE(got.load());
  gate.UnlockShared();
  std::this_thread::sleep_for(20ms);
  EXPECT_FALSE(got.load()) << "one shared holder is still in";
  gate.UnlockShared();  // The last one, released on another thread than it entered on.
  ex.join();
  EXPECT_TRUE(got.load());
  ASSERT_TRUE(gate.TryLockShared()) << "the gate reopens to shared holders";
  gate.UnlockShared();
}

TEST(WriteGateTest, AWaitingExclusiveWriterKeepsNewSharedHoldersOut) {
  WriteGate gate;
  gate.LockShared();
  std::atomic<int> order{0};
  std::atomic<int> exclusive_at{0};
  std::atomic<int> shared_at{0};
  std::thread ex([&] {
    gate.Lock();
    exclusive_at = ++order;
    gate.Unlock();
  });
  // Wait until the exclusive writer has announced itself.
  while (gate.TryLockShared()) {
    gate.UnlockShared();
    std::this_thread::yield();
  }
  std::thread sh([&] {
    gate.LockShared();
    shared_at = ++order;
    gate.UnlockShared();
  });
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(shared_at.load(), 0) << "a new shared holder entered past a waiting exclusive one";
  gate.UnlockShared();
  ex.join();
  sh.join();
  EXPECT_EQ(exclusive_at.load(), 1);
  EXPECT_EQ(shared_at.load(), 2);
}

TEST(WriteGateTest, ExclusiveHoldersExcludeEveryoneUnderContention) {
  constexpr int kThreads = 8;
  constexpr int kIters = 20000;
  WriteGate gate;
  std::atomic<int> shared_in{0};
  std::atomic<int> exclusive_in{0};
  std::atomic<bool> broken{false};
  std::atomic<bool> go{false};
  std::atomic<uint64_t> exclusive_entries{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([&, t] {
      while (!go.load()) std::this_thread::yield();  // Start together.
      for (int i = 0; i < kIters; i++) {
        // Now and then a holder gives up its CPU inside, so that others
        // arrive while it holds the gate.
        const bool linger = i % 64 == 0;
        if ((i + t) % 16 == 0) {
          gate.Lock();
          if (exclusive_in.fetch_add(1) != 0 || shared_in.load() != 0) broken = true;
          if (linger) std::this_thread::yield();
          if (shared_in.load() != 0) broken = true;
          exclusive_entries++;
          exclusive_in.fetch_sub(1);
          gate.Unlock();
        } else {
          const bool entered = (i % 3 == 0) ? gate.TryLockShared() : (gate.LockShared(), true);
          if (!entered) continue;
          shared_in.fetch_add(1);
          if (exclusive_in.load() != 0) broken = true;
          if (linger) std::this_thread::yield();
          if (exclusive_in.load() != 0) broken = true;
          shared_in.fetch_sub(1);
          gate.UnlockShared();
        }
      }
    });
  }
  go = true;
  for (auto& th : threads) th.join();
  EXPECT_FALSE(broken.load());
  uint64_t want = 0;
  for (int t = 0; t < kThreads; t++) {
    for (int i = 0; i < kIters; i++) want += (i + t) % 16 == 0;
  }
  EXPECT_EQ(exclusive_entries.load(), want);
  ASSERT_TRUE(gate.TryLockShared()) << "the gate is free again";
  gate.UnlockShared();
}

}  // namespace
}  // namespace immudb::database
