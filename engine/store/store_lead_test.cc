// The commit queue's leadership hand-over: a queued committer that claims a
// handed-over leadership after another leader already took it into a batch
// must still return with its own result (it leads for the others first).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include "immudb/store.h"
#include "store/store_impl.h"
#include "testutil/test_util.h"

namespace immudb {
namespace {

using testutil::TempDir;

// Sleeps in the window between a waiter's read of its batch number and its
// claim of the leadership, often enough that another leader takes the
// waiter into a batch and hands over meanwhile.
void SleepSometimes() {
  thread_local std::minstd_rand rng(
      static_cast<unsigned>(std::hash<std::thread::id>()(std::this_thread::get_id())));
  if (rng() % 4 == 0) std::this_thread::sleep_for(std::chrono::microseconds(rng() % 800));
}

// Many synced committers (each batch waits for its fsync, so its leader
// hands over to the queue) with the claim window widened. Every commit must
// return, with its own tx, and the ids must be all of 1..n once each.
void CommitWithWideClaimWindow(const std::string& dir) {
  store::test_before_lead_claim.store(&SleepSometimes);
  StoreOptions o;
  o.synced = true;
  o.committers_append = false;  // Leaders hand over only in the leader pipeline.
  auto st = Store::Open(dir, o);
  if (!st.ok()) _exit(2);
  std::unique_ptr<Store> s = std::move(st).value();
  constexpr int kThreads = 24, kPerThread = 60;
  std::vector<std::vector<uint64_t>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; i++) {
        const std::string key = "k" + std::to_string(t) + "-" + std::to_string(i);
        auto h = s->Commit({EntrySpec{key, "v", {}}});
        if (!h.ok()) _exit(3);
        ids[t].push_back(h->id);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::vector<bool> seen(kThreads * kPerThread + 1);
  for (const auto& v : ids) {
    for (uint64_t id : v) {
      if (id == 0 || id >= seen.size() || seen[id]) _exit(4);
      seen[id] = true;
    }
  }
  if (!s->Close().ok()) _exit(5);
  store::test_before_lead_claim.store(nullptr);
}

TEST(StoreLeadTest, ClaimingLeadershipAfterBeingTakenIntoABatchStillReturns) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  TempDir d;
  // In a child: a committer stuck leading would never return, so a
  // deadline ends the child (SIGALRM) and the test fails.
  EXPECT_EXIT(
      {
        alarm(30);
        for (int round = 0; round < 3; round++) {
          CommitWithWideClaimWindow(d.path() + "/s" + std::to_string(round));
        }
        _exit(0);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace immudb
