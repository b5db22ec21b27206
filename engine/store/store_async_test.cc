// Store::CommitAsync: callbacks run once, with the committed header, in any
// mix with blocking commits; refusals reach the callback; Close waits for
// every queued callback.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "immudb/store.h"
#include "immudb/verify.h"
#include "testutil/test_util.h"

namespace immudb {
namespace {

using testutil::TempDir;

EntrySpec Kv(std::string k, std::string v) { return EntrySpec{std::move(k), std::move(v), {}}; }

std::unique_ptr<Store> MustOpen(const std::string& dir, const StoreOptions& o = {}) {
  auto s = Store::Open(dir, o);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

// What the callbacks reported, keyed by the key each tx wrote.
struct Results {
  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, Result<TxHeader>> by_key;
  int calls = 0;

  Store::CommitCallback For(std::string key) {
    return [this, key](Result<TxHeader> h) {
      std::lock_guard<std::mutex> l(mu);
      calls++;
      by_key.emplace(key, std::move(h));
      cv.notify_all();
    };
  }
  void WaitFor(int n) {
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [&] { return calls >= n; });
  }
};

// Synced and unsynced: unsynced leaders lead on past their own batch, and
// hand over to the commit thread when an async commit is next.
class StoreAsyncInterleaveTest : public ::testing::TestWithParam<bool> {};

TEST_P(StoreAsyncInterleaveTest, AsyncAndBlockingCommitsInterleave) {
  TempDir d;
  constexpr int kThreads = 6, kPerThread = 200;
  Results res;
  std::map<std::string, uint64_t> blocking_ids;
  std::mutex blocking_mu;
  StoreOptions o;
  o.synced = GetParam();
  {
    auto s = MustOpen(d.path(), o);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; t++) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; i++) {
          std::string key = "k" + std::to_string(t) + "-" + std::to_string(i);
          if (t % 2 == 0) {
            s->CommitAsync({Kv(key, "v" + key)}, res.For(key));
          } else {
            auto h = s->Commit({Kv(key, "v" + key)});
            ASSERT_TRUE(h.ok()) << h.status().ToString();
            std::lock_guard<std::mutex> l(blocking_mu);
            blocking_ids[key] = h->id;
          }
        }
      });
    }
    for (auto& th : threads) th.join();
    res.WaitFor(kThreads / 2 * kPerThread);
    ASSERT_TRUE(s->Close().ok());
  }
  EXPECT_EQ(res.calls, kThreads / 2 * kPerThread);  // Once each, no more after Close.

  // Every tx id from 1 to the total was handed out exactly once, and each
  // holds the key its caller was told.
  std::map<uint64_t, std::string> key_of;
  for (auto& [key, h] : res.by_key) {
    ASSERT_TRUE(h.ok()) << key << ": " << h.status().ToString();
    EXPECT_TRUE(key_of.emplace(h->id, key).second) << "tx " << h->id << " given twice";
  }
  for (auto& [key, id] : blocking_ids) EXPECT_TRUE(key_of.emplace(id, key).second);
  ASSERT_EQ(key_of.size(), size_t{kThreads * kPerThread});
  EXPECT_EQ(key_of.begin()->first, 1u);
  EXPECT_EQ(key_of.rbegin()->first, uint64_t{kThreads * kPerThread});

  auto s = MustOpen(d.path());
  ASSERT_EQ(s->CurrentState().tx_id, uint64_t{kThreads * kPerThread});
  for (auto& [id, key] : key_of) {
    auto tx = s->ReadTx(id);
    ASSERT_TRUE(tx.ok()) << tx.status().ToString();
    ASSERT_EQ(tx->entries.size(), 1u);
    EXPECT_EQ(tx->entries[0].key, key);
    auto v = s->ReadValue(tx->entries[0]);
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(*v, "v" + key);
  }
}

INSTANTIATE_TEST_SUITE_P(SyncedAndUnsynced, StoreAsyncInterleaveTest, ::testing::Bool());

TEST(StoreAsyncTest, HeadersChainLikeBlockingCommits) {
  TempDir d;
  auto s = MustOpen(d.path());
  Results res;
  for (int i = 0; i < 50; i++)
    s->CommitAsync({Kv("k" + std::to_string(i), "v")}, res.For("k" + std::to_string(i)));
  res.WaitFor(50);
  const StoreState st = s->CurrentState();
  ASSERT_EQ(st.tx_id, 50u);
  // The last header hashes to the state's Alh, and a dual proof from the
  // first verifies against it.
  auto last = s->ReadTxHeader(50);
  ASSERT_TRUE(last.ok());
  auto last_alh = last->Alh();
  ASSERT_TRUE(last_alh.ok());
  EXPECT_EQ(*last_alh, st.alh);
  auto first = s->ReadTxHeader(1);
  ASSERT_TRUE(first.ok());
  auto first_alh = first->Alh();
  ASSERT_TRUE(first_alh.ok());
  auto proof = s->BuildDualProof(*first, *last);
  ASSERT_TRUE(proof.ok());
  EXPECT_TRUE(verify::VerifyDualProof(*proof, 1, 50, *first_alh, *last_alh));
}

TEST(StoreAsyncTest, RefusalsReachTheCallbackOnTheCaller) {
  TempDir d;
  auto s = MustOpen(d.path());
  const std::thread::id me = std::this_thread::get_id();
  int calls = 0;
  auto expect_error = [&](StatusCode code) {
    return [&, code](Result<TxHeader> h) {
      calls++;
      EXPECT_EQ(std::this_thread::get_id(), me);
      ASSERT_FALSE(h.ok());
      EXPECT_EQ(h.status().code(), code) << h.status().ToString();
    };
  };
  s->CommitAsync({}, expect_error(StatusCode::kInvalidArgument));
  s->CommitAsync({Kv("a", "1"), Kv("a", "2")}, expect_error(StatusCode::kInvalidArgument));
  s->CommitAsync({Kv(std::string(2000, 'k'), "1")}, expect_error(StatusCode::kInvalidArgument));
  EXPECT_EQ(s->CurrentState().tx_id, 0u);
  ASSERT_TRUE(s->Close().ok());
  s->CommitAsync({Kv("a", "1")}, expect_error(StatusCode::kFailedPrecondition));
  EXPECT_EQ(calls, 4);
}

TEST(StoreAsyncTest, CloseWaitsForQueuedCallbacks) {
  TempDir d;
  std::atomic<int> calls{0};
  {
    auto s = MustOpen(d.path());
    for (int i = 0; i < 500; i++) {
      s->CommitAsync({Kv("k" + std::to_string(i), "v")}, [&calls](Result<TxHeader> h) {
        EXPECT_TRUE(h.ok()) << h.status().ToString();
        calls++;
      });
    }
    ASSERT_TRUE(s->Close().ok());
    EXPECT_EQ(calls.load(), 500);
  }
  auto s = MustOpen(d.path());
  EXPECT_EQ(s->CurrentState().tx_id, 500u);
}

}  // namespace
}  // namespace immudb
