// Power loss at the database layer: the store's files go through the
// fault-injecting immudb file system (testutil/fault_fs.h) and the key
// index's RocksDB files through its RocksDB counterpart
// (testutil/fault_rocks_fs.h). Each round writes through the Database from
// several threads (sets waiting for the index and not, deletes, references,
// sorted-set members, ExecAll: the db_crash ops of testutil/db_model.h) while
// the index catches up, flushes and compacts (small memtables, and a thread
// that flushes and compacts at random), then cuts the power of both file
// systems at a random moment, drops what was not durable (tearing the last
// write of each file, sometimes with garbage after it), and reopens. Then:
//  * the database opens;
//  * synced store: every acknowledged write is in its tx, exactly as written;
//    unsynced store: every acknowledged write the kept log still covers is;
//  * every read of the database (Get latest, at every revision and at every
//    tx, History, Scan, ZScan, CountAll) agrees with the model rebuilt from
//    the reopened log.
// A fresh database is started every few rounds, so the checks stay short.
// A third test cuts the power of the index alone while writes go on, then
// closes and reopens the database.
//
// IMMUDB_DB_POWER_ROUNDS sets the rounds of each test (default 24).
#include <gtest/gtest.h>
#include <rocksdb/env.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <random>
#include <thread>

#include "immudb/database.h"
#include "testutil/db_model.h"
#include "testutil/fault_fs.h"
#include "testutil/fault_rocks_fs.h"
#include "testutil/test_util.h"

namespace immudb {
namespace {

using testutil::Acked;
using testutil::DropOptions;
using testutil::FaultInjectionFileSystem;
using testutil::FaultInjectionRocksFs;
using testutil::Model;

constexpr int kThreads = 3;
constexpr int kRoundsPerDatabase = 4;

struct Totals {
  uint64_t acked = 0, kept = 0, txs = 0, indexed_at_open = 0, index_files_cut = 0;
  uint64_t index_file_syncs = 0;
};

// Opens `dir`, checks it against what was acknowledged (forgetting, when
// the store is unsynced, what the log did not keep) and the model of its log.
void CheckReopened(Database* db, bool synced, std::vector<Acked>* acked, Totals* totals) {
  const uint64_t last = db->CurrentState().tx_id;
  totals->indexed_at_open += db->IndexedUpTo();
  totals->txs += last;
  Model model;
  ASSERT_NO_FATAL_FAILURE(model.Load(db, last));
  std::vector<Acked> kept;
  for (const Acked& a : *acked) {
    if (a.id > last) {
      ASSERT_FALSE(synced) << "acknowledged tx " << a.id << " lost (log ends at " << last << ")";
      continue;
    }
    ASSERT_EQ(model.Desc(a.id), Model::Describe(a)) << "tx " << a.id;
    kept.push_back(a);
  }
  *acked = std::move(kept);
  ASSERT_NO_FATAL_FAILURE(model.CheckReads(db, last));
}

// Writes from kThreads threads, and flushes and compacts the index from
// another, until the power goes off after `cut_after`.
void RunRound(Database* db, const std::function<void()>& cut, std::chrono::microseconds cut_after,
              std::vector<uint64_t>* next_seq, std::vector<Acked>* acked, std::mt19937_64* rng) {
  std::mutex mu;
  std::atomic<bool> off{false};
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; t++) {
    ts.emplace_back([&, t] {
      auto state = testutil::LoadDbCrashThread(db, static_cast<uint64_t>(t));
      if (!state.ok()) return;  // The power went off already.
      uint64_t& seq = (*next_seq)[static_cast<size_t>(t)];
      while (!off.load()) {
        auto a = testutil::RunDbCrashOp(db, &*state, seq++);
        if (!a.ok()) return;
        std::lock_guard<std::mutex> l(mu);
        acked->push_back(*a);
      }
    });
  }
  const uint64_t flush_seed = (*rng)();
  ts.emplace_back([&, flush_seed] {
    std::mt19937_64 r(flush_seed);
    while (!off.load()) {
      std::this_thread::sleep_for(std::chrono::microseconds(500 + r() % 4000));
      Status s = r() % 6 == 0 ? db->CompactIndex() : db->FlushIndex();
      (void)s;  // Fails once the power is off.
    }
  });
  std::this_thread::sleep_for(cut_after);
  cut();
  off.store(true);
  for (auto& t : ts) t.join();
}

void PowerLossRounds(bool synced, int rounds) {
  std::mt19937_64 rng(testutil::TestSeed() + (synced ? 21 : 22));
  testutil::TempDir tmp;
  const std::string trash = tmp.Sub("kept");
  std::filesystem::create_directories(trash);
  Totals totals;
  std::string dir;
  std::vector<Acked> acked;
  std::vector<uint64_t> next_seq;
  for (int r = 0; r < rounds; r++) {
    if (r % kRoundsPerDatabase == 0) {
      dir = tmp.Sub("db" + std::to_string(r));
      acked.clear();
      next_seq.assign(kThreads, 1);
    }
    FaultInjectionFileSystem store_fs(FileSystem::Default());
    auto index_fs = std::make_shared<FaultInjectionRocksFs>(rocksdb::FileSystem::Default(), trash);
    std::unique_ptr<rocksdb::Env> index_env = testutil::NewPowerCutEnv(index_fs);
    DatabaseOptions o;
    o.store.fs = &store_fs;
    o.store.synced = synced;
    // Unsynced: sometimes no periodic sync at all, so the index can flush
    // txs the log then loses.
    o.store.unsynced_sync_interval_ms = rng() % 3 == 0 ? 0 : 1 + rng() % 10;
    o.index_env = index_env.get();
    o.index_write_buffer_bytes = 128 << 10;  // The smallest: flushes every few hundred records.
    o.index_inline_value_bytes = rng() % 2 == 0 ? 0 : 128;
    o.index_wait_timeout_ms = 10000;
    {
      auto db = Database::Open(dir, o);
      ASSERT_TRUE(db.ok()) << "round " << r << ": " << db.status().ToString();
      ASSERT_NO_FATAL_FAILURE(CheckReopened(db->get(), synced, &acked, &totals)) << "round " << r;
      totals.kept += acked.size();
      const auto cut_after = std::chrono::microseconds(rng() % 100000);
      RunRound(
          db->get(),
          [&] {
            // Both file systems lose power at once.
            store_fs.SetActive(false);
            index_fs->SetActive(false);
          },
          cut_after, &next_seq, &acked, &rng);
    }  // The database is destroyed with the power off.
    totals.acked += acked.size();
    totals.index_file_syncs += index_fs->file_syncs();
    DropOptions drop;
    drop.tear_last_write = rng() % 4 != 0;
    drop.garbage = rng() % 2 == 0;
    drop.seed = rng();
    ASSERT_TRUE(store_fs.DropUnsyncedData(drop).ok()) << "round " << r;
    drop.seed = rng();
    Status s = index_fs->DropUnsyncedData(drop);
    ASSERT_TRUE(s.ok()) << "round " << r << ": " << s.ToString();
    totals.index_files_cut += index_fs->files_dropped();
    store_fs.SetActive(true);
    index_fs->SetActive(true);
    if (r % kRoundsPerDatabase == kRoundsPerDatabase - 1 || r == rounds - 1) {
      // The last round of a database: reopen on the plain file systems.
      DatabaseOptions plain;
      plain.store.synced = synced;
      auto db = Database::Open(dir, plain);
      ASSERT_TRUE(db.ok()) << "round " << r << ": " << db.status().ToString();
      ASSERT_NO_FATAL_FAILURE(CheckReopened(db->get(), synced, &acked, &totals)) << "round " << r;
      totals.kept += acked.size();
    }
  }
  std::fprintf(
      stderr,
      "database power loss (%s): %d rounds, %llu writes acknowledged, %llu checked "
      "after a cut; index: %llu file syncs, %llu files cut or dropped, %.0f%% of the "
      "log indexed at open\n",
      synced ? "synced" : "unsynced", rounds, static_cast<unsigned long long>(totals.acked),
      static_cast<unsigned long long>(totals.kept),
      static_cast<unsigned long long>(totals.index_file_syncs),
      static_cast<unsigned long long>(totals.index_files_cut),
      totals.txs
          ? 100.0 * static_cast<double>(totals.indexed_at_open) / static_cast<double>(totals.txs)
          : 0.0);
  EXPECT_GT(totals.acked, 0u);
  EXPECT_GT(totals.index_file_syncs, 0u);
}

TEST(DatabasePowerLossTest, SyncedKeepsEveryAcknowledgedWriteAndTheIndexAgrees) {
  PowerLossRounds(true, static_cast<int>(testutil::EnvInt("IMMUDB_DB_POWER_ROUNDS", 24)));
}

TEST(DatabasePowerLossTest, UnsyncedReopensToAPrefixAndTheIndexAgrees) {
  PowerLossRounds(false, static_cast<int>(testutil::EnvInt("IMMUDB_DB_POWER_ROUNDS", 24)));
}

// The index's disk fails while the store's works: the index fills its
// memtables with the power off until a memtable switch or a flush fails, and
// the database must still close (RocksDB 7.8 leaked a column family reference
// when an automatic atomic flush failed to switch memtables, and aborted on
// close) and reopen with every write indexed.
TEST(DatabasePowerLossTest, AnIndexThatLosesPowerClosesAndCatchesUp) {
  testutil::TempDir tmp;
  const std::string trash = tmp.Sub("kept");
  std::filesystem::create_directories(trash);
  auto index_fs = std::make_shared<FaultInjectionRocksFs>(rocksdb::FileSystem::Default(), trash);
  std::unique_ptr<rocksdb::Env> index_env = testutil::NewPowerCutEnv(index_fs);
  DatabaseOptions o;
  o.index_env = index_env.get();
  o.index_write_buffer_bytes = 128 << 10;
  o.index_wait_timeout_ms = 10000;
  uint64_t acked = 0;
  {
    auto db = Database::Open(tmp.Sub("db"), o);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    index_fs->SetActive(false);
    Status failed;
    for (int i = 0; i < 100000 && failed.ok(); i++) {
      const std::string k = "key" + std::to_string(i);
      auto h = (*db)->Set({{k, std::string(100, 'v'), {}}}, false);
      if (h.ok()) {
        acked = h->id;
      } else {
        failed = h.status();
      }
    }
    ASSERT_FALSE(failed.ok()) << "the index never failed";
    index_fs->SetActive(true);
    Status closed = (*db)->Close();
    (void)closed;  // The index's failure.
  }
  ASSERT_TRUE(index_fs->DropUnsyncedData().ok());
  auto db = Database::Open(tmp.Sub("db"), DatabaseOptions{});
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  ASSERT_GE((*db)->CurrentState().tx_id, acked);
  Model model;
  ASSERT_NO_FATAL_FAILURE(model.Load(db->get(), (*db)->CurrentState().tx_id));
  ASSERT_NO_FATAL_FAILURE(model.CheckReads(db->get(), (*db)->CurrentState().tx_id));
  auto count = (*db)->CountAll();
  ASSERT_TRUE(count.ok());
  EXPECT_GE(*count, acked);
}

}  // namespace
}  // namespace immudb
