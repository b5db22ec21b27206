// Database::TrySetAsync: the same results and checks as Set, without
// blocking the caller; reads after the callback see the write.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "database/database_test_util.h"

namespace immudb {
namespace {

class DatabaseAsyncTest : public testing_db::DbFixture {
 protected:
  // Runs TrySetAsync and waits for its callback; nullopt when it declined.
  std::optional<Result<TxHeader>> SetAndWait(std::vector<KeyValue> kvs, bool no_wait = false) {
    std::mutex mu;
    std::condition_variable cv;
    std::optional<Result<TxHeader>> out;
    const bool started = db_->TrySetAsync(kvs, no_wait, [&](Result<TxHeader> h) {
      std::lock_guard<std::mutex> l(mu);
      out.emplace(std::move(h));
      cv.notify_all();
    });
    if (!started) return std::nullopt;
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [&] { return out.has_value(); });
    return out;
  }
};

TEST_F(DatabaseAsyncTest, WriteIsIndexedWhenTheCallbackRuns) {
  for (int i = 0; i < 20; i++) {
    const std::string k = "key" + std::to_string(i % 5);
    const std::string v = "value" + std::to_string(i);
    auto h = SetAndWait({KeyValue{k, v, {}}});
    ASSERT_TRUE(h.has_value());
    ASSERT_TRUE(h->ok()) << h->status().ToString();
    EXPECT_EQ((*h)->id, uint64_t(i + 1));
    EXPECT_GE(db_->IndexedUpTo(), (*h)->id);
    Entry e = MustGet(k);  // No wait needed: the index covers the write.
    EXPECT_EQ(e.value, v);
    EXPECT_EQ(e.tx, (*h)->id);
  }
}

TEST_F(DatabaseAsyncTest, RefusedLikeSetAndNothingWritten) {
  const std::thread::id me = std::this_thread::get_id();
  auto refused = [&](std::vector<KeyValue> kvs, const std::string& message) {
    bool called = false;
    ASSERT_TRUE(db_->TrySetAsync(kvs, false, [&](Result<TxHeader> h) {
      called = true;
      EXPECT_EQ(std::this_thread::get_id(), me);
      ASSERT_FALSE(h.ok());
      EXPECT_EQ(h.status().message(), message);
      // Set refuses the same request with the same error.
      auto sync = db_->Set(kvs, false);
      ASSERT_FALSE(sync.ok());
      EXPECT_EQ(sync.status().code(), h.status().code());
      EXPECT_EQ(sync.status().message(), h.status().message());
    }));
    EXPECT_TRUE(called) << message;
  };
  refused({}, "illegal arguments");
  refused({KeyValue{"a", "1", {}}, KeyValue{"a", "2", {}}},
          "duplicated keys are not supported in single batch transaction");
  refused({KeyValue{std::string(opts_.store.max_key_len, 'k'), "1", {}}},
          "max key length exceeded");
  refused({KeyValue{"", "1", {}}}, "illegal arguments");
  EXPECT_EQ(db_->CurrentState().tx_id, 0u);

  ASSERT_TRUE(db_->Close().ok());
  refused({KeyValue{"a", "1", {}}}, "database is closed");
}

TEST_F(DatabaseAsyncTest, ConcurrentWithExclusiveWritesEveryAcceptedWriteLands) {
  // Deletes and references take the database exclusively; TrySetAsync
  // either starts (and its callback reports the tx) or declines and writes
  // nothing. How many start depends on the timing (under a sanitizer, none
  // may).
  MustSet("victim", "v");
  std::atomic<bool> stop{false};
  std::thread exclusive([&] {
    int i = 0;
    while (!stop.load()) {
      ReferenceRequest ref;
      ref.key = "ref" + std::to_string(i++ % 10);
      ref.referenced_key = "victim";
      auto r = db_->SetReference(ref);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
    }
  });
  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, Result<TxHeader>> done;
  int started = 0, declined = 0;
  for (int i = 0; i < 300; i++) {
    const std::string k = "async" + std::to_string(i);
    if (db_->TrySetAsync({KeyValue{k, "v" + k, {}}}, false, [&, k](Result<TxHeader> h) {
          std::lock_guard<std::mutex> l(mu);
          done.emplace(k, std::move(h));
          cv.notify_all();
        })) {
      started++;
    } else {
      declined++;
    }
  }
  {
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [&] { return done.size() == size_t(started); });
  }
  stop = true;
  exclusive.join();
  for (auto& [k, h] : done) {
    ASSERT_TRUE(h.ok()) << k << ": " << h.status().ToString();
    Entry e = MustGet(k);
    EXPECT_EQ(e.value, "v" + k);
    EXPECT_EQ(e.tx, h->id);
  }
  // The declined ones wrote nothing.
  for (int i = 0; i < 300; i++) {
    const std::string k = "async" + std::to_string(i);
    if (done.count(k)) continue;
    KeyRequest r;
    r.key = k;
    EXPECT_TRUE(db_->Get(r).status().IsNotFound()) << k;
  }
  EXPECT_EQ(started + declined, 300);
  // With no exclusive writer left, the gate is free: the write starts.
  std::optional<Result<TxHeader>> after = SetAndWait({KeyValue{"after", "v", {}}});
  ASSERT_TRUE(after.has_value());
  ASSERT_TRUE(after->ok()) << after->status().ToString();
  EXPECT_EQ(MustGet("after").tx, (*after)->id);
}

TEST_F(DatabaseAsyncTest, CloseWithWritesInFlightRunsEveryCallback) {
  std::atomic<int> calls{0};
  int started = 0;
  for (int i = 0; i < 200; i++) {
    started += db_->TrySetAsync({KeyValue{"k" + std::to_string(i), "v", {}}}, i % 2 == 0,
                                [&calls](Result<TxHeader>) { calls++; });
  }
  ASSERT_TRUE(db_->Close().ok());
  EXPECT_EQ(calls.load(), started);
}

}  // namespace
}  // namespace immudb
