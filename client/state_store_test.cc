#include "client/state_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "client/tampering.h"

namespace immudb::client {
namespace {

class ClientStateStoreTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TempDir() + "/client_state_" + std::to_string(getpid()) + "_" +
           testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static State At(uint64_t tx, uint8_t fill, std::string db = "defaultdb") {
    State s;
    s.db = std::move(db);
    s.tx_id = tx;
    s.tx_hash.fill(fill);
    return s;
  }

  std::string dir_;
};

TEST_F(ClientStateStoreTest, EmptyUntilPutThenRoundTripsWithMode0600) {
  StateStore store(dir_ + "/state");
  auto none = store.Get("uuid1", "defaultdb");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());

  State s = At(3, 0xab);
  s.signature = std::string("\x30\x01\x02", 3);
  ASSERT_TRUE(store.Put("uuid1", s).ok());
  ASSERT_TRUE(store.Put("uuid1", At(1, 0x01, "otherdb")).ok());

  StateStore reopened(dir_ + "/state");
  auto got = reopened.Get("uuid1", "defaultdb");
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(**got, s);
  EXPECT_EQ((*reopened.Get("uuid1", "otherdb"))->tx_id, 1u);

  struct stat st;
  ASSERT_EQ(stat((dir_ + "/state").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(ClientStateStoreTest, NeverMovesBackwardsOrForks) {
  StateStore store(dir_ + "/state");
  ASSERT_TRUE(store.Put("u", At(5, 0x05)).ok());
  Status back = store.Put("u", At(4, 0x04));
  EXPECT_TRUE(IsTampering(back)) << back.ToString();
  Status fork = store.Put("u", At(5, 0x06));
  EXPECT_TRUE(IsTampering(fork)) << fork.ToString();
  EXPECT_TRUE(store.Put("u", At(5, 0x05)).ok());
  EXPECT_TRUE(store.Put("u", At(9, 0x09)).ok());
  EXPECT_EQ((*store.Get("u", "defaultdb"))->tx_id, 9u);
}

TEST_F(ClientStateStoreTest, OtherServerIdentityIsTampering) {
  StateStore store(dir_ + "/state");
  ASSERT_TRUE(store.Put("u1", At(1, 0x01)).ok());
  auto got = store.Get("u2", "defaultdb");
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(IsTampering(got.status())) << got.status().ToString();
  EXPECT_TRUE(IsTampering(store.Put("u2", At(7, 0x07))));
  // Even a database the file has no state for.
  EXPECT_TRUE(IsTampering(store.Get("u2", "otherdb").status()));
}

TEST_F(ClientStateStoreTest, MalformedFileIsCorruption) {
  {
    std::ofstream f(dir_ + "/state");
    f << "immudb-client-state 1\nserver u\nstate defaultdb 3 nothex -\n";
  }
  StateStore store(dir_ + "/state");
  EXPECT_TRUE(store.Get("u", "defaultdb").status().IsCorruption());
  EXPECT_FALSE(IsTampering(store.Get("u", "defaultdb").status()));
}

TEST_F(ClientStateStoreTest, RejectsNamesWithWhitespace) {
  StateStore store(dir_ + "/state");
  EXPECT_TRUE(store.Put("u", At(1, 1, "bad db")).IsInvalidArgument());
  EXPECT_TRUE(store.Put("u u", At(1, 1)).IsInvalidArgument());
}

TEST_F(ClientStateStoreTest, LockExcludesOtherHoldersAndIsReentrant) {
  StateStore a(dir_ + "/state");
  StateStore b(dir_ + "/state");
  {
    auto lock = a.Acquire();
    ASSERT_TRUE(lock.ok()) << lock.status().ToString();
    struct stat st;
    ASSERT_EQ(stat((dir_ + "/state.lock").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    // Nested use by the holder does not block.
    auto again = a.Acquire(0);
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_TRUE(a.Put("uuid1", At(1, 1)).ok());
    EXPECT_TRUE(a.Get("uuid1", "defaultdb").ok());
    // Another holder waits, and gives up after its bound.
    auto other = b.Acquire(50);
    ASSERT_FALSE(other.ok());
    EXPECT_TRUE(other.status().IsIOError()) << other.status().ToString();
  }
  auto now = b.Acquire(0);
  ASSERT_TRUE(now.ok()) << now.status().ToString();
}

// Threads with their own StateStore on one file, each advancing the state
// under the lock: every step sees the latest state, none goes backwards.
TEST_F(ClientStateStoreTest, LockedReadModifyWriteFromManyHolders) {
  constexpr int kThreads = 4, kSteps = 25;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      StateStore store(dir_ + "/state");
      for (int i = 0; i < kSteps; ++i) {
        auto lock = store.Acquire();
        if (!lock.ok()) {
          ++failures;
          continue;
        }
        auto cur = store.Get("uuid1", "defaultdb");
        const uint64_t next = cur.ok() && cur->has_value() ? (*cur)->tx_id + 1 : 1;
        if (!cur.ok() || !store.Put("uuid1", At(next, static_cast<uint8_t>(next))).ok()) {
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  StateStore store(dir_ + "/state");
  auto last = store.Get("uuid1", "defaultdb");
  ASSERT_TRUE(last.ok() && last->has_value());
  EXPECT_EQ((*last)->tx_id, static_cast<uint64_t>(kThreads * kSteps));
}

}  // namespace
}  // namespace immudb::client
