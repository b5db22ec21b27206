// Power loss: the fault-injecting file system cuts the power while writers
// commit, drops everything that was not synced and tears the last write.
// Synced mode must keep every acknowledged transaction; unsynced mode may lose
// the tail but must reopen to a consistent, fully checkable store. Injected
// write and sync errors must fail the commit, stick, and lose nothing that
// was acknowledged before them.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "immudb/store.h"
#include "immudb/verify.h"
#include "testutil/fault_fs.h"
#include "testutil/test_util.h"

namespace immudb {
namespace {

using testutil::DropOptions;
using testutil::FaultInjectionFileSystem;
using testutil::FaultKind;
using testutil::FaultOp;

std::string ValueFor(const std::string& k) { return "v-" + k + std::string(k.size() % 50, '#'); }

struct Ledger {
  std::mutex mu;
  std::map<uint64_t, std::string> acked;  // tx id -> key
  std::map<uint64_t, Hash> alh;
};

// Commits from `threads` threads until a commit fails (power cut, injected
// fault) or `max_per_thread` commits each.
void RunWriters(Store* s, int threads, int max_per_thread, Ledger* ledger,
                std::atomic<int>* failures) {
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; t++) {
    ts.emplace_back([=] {
      for (int i = 0; i < max_per_thread; i++) {
        std::string k = "k" + std::to_string(t) + "-" + std::to_string(i) + "-" +
                        std::to_string(reinterpret_cast<uintptr_t>(ledger) % 97);
        auto h = s->Commit({{k, ValueFor(k), {}}});
        if (!h.ok()) {
          failures->fetch_add(1);
          return;
        }
        std::lock_guard<std::mutex> g(ledger->mu);
        ledger->acked[h->id] = k;
        ledger->alh[h->id] = *h->Alh();
      }
    });
  }
  for (auto& t : ts) t.join();
}

// Every tx in the store reads back and chains; every acknowledged one (when
// `must_keep`) is there with its value and the same Alh.
void CheckStore(Store* s, const Ledger& ledger, bool must_keep) {
  const StoreState st = s->CurrentState();
  Hash prev = EmptyHash();
  for (uint64_t id = 1; id <= st.tx_id; id++) {
    auto tx = s->ReadTx(id);
    ASSERT_TRUE(tx.ok()) << "tx " << id << ": " << tx.status().ToString();
    ASSERT_EQ(tx->header.prev_alh, prev);
    for (const TxEntry& e : tx->entries) {
      auto v = s->ReadValue(e);
      ASSERT_TRUE(v.ok()) << v.status().ToString();
      ASSERT_EQ(*v, ValueFor(e.key));
    }
    prev = *tx->header.Alh();
    auto it = ledger.acked.find(id);
    if (it != ledger.acked.end()) {
      ASSERT_EQ(tx->entries[0].key, it->second);
      ASSERT_EQ(prev, ledger.alh.at(id));
    }
  }
  ASSERT_EQ(prev, st.alh);
  if (must_keep && !ledger.acked.empty()) {
    ASSERT_GE(st.tx_id, ledger.acked.rbegin()->first) << "acknowledged transactions lost";
  }
}

void PowerLossCycles(bool synced, int cycles) {
  std::mt19937_64 rng(testutil::TestSeed() + (synced ? 1 : 2));
  auto mem = NewMemFileSystem();
  Ledger ledger;
  for (int c = 0; c < cycles; c++) {
    FaultInjectionFileSystem fs(mem.get());
    StoreOptions o;
    o.fs = &fs;
    o.synced = synced;
    o.unsynced_sync_interval_ms = 1;
    {
      auto s = Store::Open("/db", o);
      ASSERT_TRUE(s.ok()) << "cycle " << c << ": " << s.status().ToString();
      ASSERT_NO_FATAL_FAILURE(CheckStore(s->get(), ledger, synced)) << "cycle " << c;
      std::atomic<int> failures{0};
      std::thread cutter([&] {
        std::this_thread::sleep_for(std::chrono::microseconds(200 + rng() % 5000));
        fs.SetActive(false);
      });
      RunWriters(s->get(), 4, 1000000, &ledger, &failures);
      cutter.join();
      EXPECT_GT(failures.load(), 0);
    }  // The store is destroyed with the power off.
    DropOptions drop;
    drop.tear_last_write = true;
    drop.garbage = (c % 2) == 1;
    drop.seed = rng();
    ASSERT_TRUE(fs.DropUnsyncedData(drop).ok());
    fs.SetActive(true);
    if (!synced) {
      // Unsynced mode promises nothing across a power loss: forget what was
      // acknowledged but not kept, after checking the store below.
      auto s = Store::Open("/db", o);
      ASSERT_TRUE(s.ok()) << s.status().ToString();
      ASSERT_NO_FATAL_FAILURE(CheckStore(s->get(), ledger, false));
      const uint64_t kept = (*s)->CurrentState().tx_id;
      ledger.acked.erase(ledger.acked.upper_bound(kept), ledger.acked.end());
      ledger.alh.erase(ledger.alh.upper_bound(kept), ledger.alh.end());
    }
  }
  auto s = Store::Open("/db", StoreOptions{.fs = mem.get()});
  ASSERT_TRUE(s.ok());
  ASSERT_NO_FATAL_FAILURE(CheckStore(s->get(), ledger, true));
  std::fprintf(stderr, "%s: %d power cuts, %zu acknowledged txs kept\n",
               synced ? "synced" : "unsynced", cycles, ledger.acked.size());
}

TEST(PowerLossTest, SyncedModeKeepsEveryAcknowledgedTx) {
  PowerLossCycles(true, static_cast<int>(testutil::EnvInt("IMMUDB_POWER_CYCLES", 30)));
}

TEST(PowerLossTest, UnsyncedModeReopensConsistent) {
  PowerLossCycles(false, static_cast<int>(testutil::EnvInt("IMMUDB_POWER_CYCLES", 30)));
}

// Fails the n-th call of `op` for every n the workload reaches: the failing
// commit reports an error, every later commit fails too (no retried fsync),
// and after a crash nothing acknowledged is lost.
void FaultSweep(FaultOp op, FaultKind kind) {
  // Count the operations a fixed workload makes.
  uint64_t total = 0;
  {
    auto mem = NewMemFileSystem();
    FaultInjectionFileSystem fs(mem.get());
    auto s = Store::Open("/db", StoreOptions{.fs = &fs});
    ASSERT_TRUE(s.ok());
    const uint64_t before = fs.OpCount(op);
    for (int i = 0; i < 12; i++) {
      std::string k = "key" + std::to_string(i);
      ASSERT_TRUE((*s)->Commit({{k, ValueFor(k), {}}}).ok());
    }
    total = fs.OpCount(op) - before;
  }
  ASSERT_GT(total, 0u);
  for (uint64_t n = 1; n <= total; n++) {
    auto mem = NewMemFileSystem();
    FaultInjectionFileSystem fs(mem.get());
    Ledger ledger;
    {
      auto s = Store::Open("/db", StoreOptions{.fs = &fs});
      ASSERT_TRUE(s.ok());
      fs.FailNth(op, n, kind);
      bool failed = false;
      for (int i = 0; i < 12; i++) {
        std::string k = "key" + std::to_string(i);
        auto h = (*s)->Commit({{k, ValueFor(k), {}}});
        if (!h.ok()) {
          failed = true;
          continue;
        }
        ASSERT_FALSE(failed) << "a commit succeeded after a failed write or sync (n=" << n << ")";
        ledger.acked[h->id] = k;
        ledger.alh[h->id] = *h->Alh();
      }
      EXPECT_TRUE(failed) << "injected fault " << n << " was not reported";
      fs.SetActive(false);
    }
    ASSERT_TRUE(fs.DropUnsyncedData(DropOptions{.tear_last_write = true}).ok());
    fs.SetActive(true);
    fs.ClearFaults();
    auto s = Store::Open("/db", StoreOptions{.fs = &fs});
    ASSERT_TRUE(s.ok()) << "n=" << n << ": " << s.status().ToString();
    ASSERT_NO_FATAL_FAILURE(CheckStore(s->get(), ledger, true)) << "n=" << n;
  }
}

TEST(PowerLossTest, FailedSyncIsStickyAndLosesNothingAcknowledged) {
  FaultSweep(FaultOp::kSync, FaultKind::kIOError);
}

TEST(PowerLossTest, FailedAppendIsStickyAndLosesNothingAcknowledged) {
  FaultSweep(FaultOp::kAppend, FaultKind::kIOError);
}

TEST(PowerLossTest, ShortWriteIsStickyAndLosesNothingAcknowledged) {
  FaultSweep(FaultOp::kAppend, FaultKind::kShortWrite);
}

TEST(PowerLossTest, NoSpaceIsStickyAndLosesNothingAcknowledged) {
  FaultSweep(FaultOp::kAppend, FaultKind::kNoSpace);
}

}  // namespace
}  // namespace immudb
