#include "index/index.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "index/index_test_util.h"
#include "testutil/test_util.h"

namespace immudb::index {
namespace {

using testing_index::Kv;

using IndexTest = testing_index::IndexFixture;

TEST_F(IndexTest, LatestRevisionAsOfAndHistory) {
  auto ix = OpenIndex();
  Commit({Kv("a", "a1"), Kv("b", "b1")});
  Commit({Kv("a", "a2")});
  Commit({Kv("c", "c1")});
  const uint64_t t4 = Commit({Kv("a", "a3"), Kv("c", "c2")});
  ASSERT_TRUE(ix->WaitFor(t4, 5000).ok());
  EXPECT_EQ(ix->IndexedUpTo(), t4);

  auto a = ix->Get("a");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->tx, 4u);
  EXPECT_EQ(a->index, 0u);
  EXPECT_EQ(a->revision, 3u);
  EXPECT_EQ(ValueOf(*a), "a3");
  EXPECT_TRUE(ix->Get("zz").status().IsNotFound());

  EXPECT_EQ(ValueOf(*ix->GetRevision("a", 2)), "a2");
  EXPECT_TRUE(ix->GetRevision("a", 4).status().IsNotFound());
  EXPECT_TRUE(ix->GetRevision("a", 0).status().IsNotFound());

  EXPECT_EQ(ValueOf(*ix->GetAsOf("a", 1)), "a1");
  EXPECT_EQ(ValueOf(*ix->GetAsOf("a", 3)), "a2");
  EXPECT_EQ(ValueOf(*ix->GetAsOf("a", 9)), "a3");
  EXPECT_TRUE(ix->GetAsOf("c", 2).status().IsNotFound());

  auto h = ix->History("a", 1, 10, false);
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 2u);
  EXPECT_EQ((*h)[0].tx, 2u);
  EXPECT_EQ((*h)[1].tx, 4u);
  h = ix->History("a", 0, 2, true);
  ASSERT_EQ(h->size(), 2u);
  EXPECT_EQ((*h)[0].revision, 3u);
  EXPECT_EQ((*h)[1].revision, 2u);
  EXPECT_TRUE(ix->History("a", 3, 10, false)->empty());
}

TEST_F(IndexTest, NonIndexableEntriesAreSkipped) {
  auto ix = OpenIndex();
  KVMetadata md;
  md.non_indexable = true;
  const uint64_t t = Commit({Kv("hidden", "x", md), Kv("shown", "y")});
  ASSERT_TRUE(ix->WaitFor(t, 5000).ok());
  EXPECT_TRUE(ix->Get("hidden").status().IsNotFound());
  auto s = ix->Get("shown");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->index, 1u);
}

std::vector<std::string> ScanKeys(const Index& ix, const ScanSpec& spec) {
  std::vector<std::string> keys;
  Status st = ix.Scan(spec, [&](const IndexedEntry& e) {
    keys.push_back(e.entry.key);
    return true;
  });
  EXPECT_TRUE(st.ok()) << st.ToString();
  return keys;
}

TEST_F(IndexTest, ScanBoundsOrderAndCount) {
  auto ix = OpenIndex();
  const uint64_t t = Commit({Kv("p1", "1"), Kv("p2", "2"), Kv("p3", "3"), Kv("q1", "4"),
                             Kv("o9", "5"), Kv(std::string("p\xff", 2), "6")});
  ASSERT_TRUE(ix->WaitFor(t, 5000).ok());
  using V = std::vector<std::string>;
  ScanSpec s;
  s.prefix = "p";
  EXPECT_EQ(ScanKeys(*ix, s), (V{"p1", "p2", "p3", "p\xff"}));
  s.desc = true;
  EXPECT_EQ(ScanKeys(*ix, s), (V{"p\xff", "p3", "p2", "p1"}));
  s.seek_key = "p2";
  EXPECT_EQ(ScanKeys(*ix, s), (V{"p1"}));
  s.inclusive_seek = true;
  EXPECT_EQ(ScanKeys(*ix, s), (V{"p2", "p1"}));
  s.end_key = "p1";
  EXPECT_EQ(ScanKeys(*ix, s), (V{"p2"}));
  s.inclusive_end = true;
  EXPECT_EQ(ScanKeys(*ix, s), (V{"p2", "p1"}));
  s = ScanSpec{};
  s.prefix = "p";
  s.seek_key = "p1";
  s.end_key = "p3";
  EXPECT_EQ(ScanKeys(*ix, s), (V{"p2"}));
  s.desc = true;
  s.seek_key = "zzz";  // Past the prefix: starts at the prefix's end.
  s.end_key = "";
  EXPECT_EQ(ScanKeys(*ix, s), (V{"p\xff", "p3", "p2", "p1"}));
  EXPECT_EQ(*ix->Count("p"), 4u);
  EXPECT_EQ(*ix->Count(""), 6u);
  EXPECT_EQ(*ix->Count("x"), 0u);
}

TEST_F(IndexTest, CatchesUpAfterReopenAndWaitTimesOut) {
  {
    auto ix = OpenIndex();
    ASSERT_TRUE(ix->WaitFor(Commit({Kv("k", "1")}), 5000).ok());
    ASSERT_TRUE(ix->Close().ok());
  }
  Commit({Kv("k", "2")});
  const uint64_t t = Commit({Kv("k", "3")});
  auto ix = OpenIndex();
  EXPECT_FALSE(ix->rebuilt_on_open());
  ASSERT_TRUE(ix->WaitFor(t, 5000).ok());
  EXPECT_EQ(ix->Get("k")->revision, 3u);
  EXPECT_EQ(ix->WaitFor(t + 1, 20).code(), StatusCode::kDeadlineExceeded);
}

// RocksDB starts a write-ahead log at every open and deletes old ones only
// after a flush, so opens that write nothing left one empty "<n>.log" each
// (a server restarted for years would gather thousands): an open removes the
// empty ones, and what was indexed stays, without a rebuild.
TEST_F(IndexTest, OpenRemovesEmptyWriteAheadLogs) {
  const uint64_t t = Commit({Kv("k", "1")});
  {
    auto ix = OpenIndex();
    ASSERT_TRUE(ix->WaitFor(t, 5000).ok());
    ASSERT_TRUE(ix->Close().ok());
  }
  const std::string dir = dir_.Sub("store/index");
  for (const char* name : {"000001.log", "000002.log", "000003.log"}) {
    std::ofstream(dir + "/" + name).flush();  // Empty, as RocksDB leaves them.
  }
  std::ofstream(dir + "/notes.log") << "not a write-ahead log";
  auto empty_logs = [&] {
    int n = 0;
    for (const auto& f : std::filesystem::directory_iterator(dir)) {
      const std::string name = f.path().filename().string();
      if (name.size() > 4 && name.substr(name.size() - 4) == ".log" && f.file_size() == 0) n++;
    }
    return n;
  };
  ASSERT_GE(empty_logs(), 3);
  auto ix = OpenIndex();
  ASSERT_NE(ix, nullptr);
  EXPECT_FALSE(ix->rebuilt_on_open());
  ASSERT_TRUE(ix->WaitFor(t, 5000).ok());
  EXPECT_EQ(ix->Get("k")->revision, 1u);
  // Only the log this open started may be empty; other files are kept.
  EXPECT_LE(empty_logs(), 1);
  for (const char* name : {"000001.log", "000002.log", "000003.log"}) {
    EXPECT_FALSE(std::filesystem::exists(dir + "/" + name)) << name;
  }
  EXPECT_TRUE(std::filesystem::exists(dir + "/notes.log"));
}

// Polls IndexedUpTo (which indexes nothing itself) until it reaches `tx`.
bool IndexerReaches(const Index& ix, uint64_t tx, std::chrono::milliseconds within) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (ix.IndexedUpTo() < tx) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// Waiters index their own txs; the indexer thread, resting meanwhile, must
// still index by itself the commits nobody waits for, and stop promptly.
TEST_F(IndexTest, CommitsNobodyWaitsForAreIndexedAfterWaitersIndexedInline) {
  auto ix = OpenIndex();
  for (int round = 0; round < 20; round++) {
    for (int i = 0; i < 20; i++) {
      const uint64_t t = Commit({Kv("w" + std::to_string(i), std::to_string(round))});
      if (i % 2 == 0) {
        ASSERT_TRUE(ix->WaitFor(t, 5000).ok());
      } else {
        std::promise<Status> p;
        ix->WhenIndexed(t, [&p](Status st) { p.set_value(st); });
        ASSERT_TRUE(p.get_future().get().ok());
      }
    }
    // Nobody waits for these: only the indexer thread indexes them.
    const uint64_t last = Commit({Kv("n", std::to_string(round))});
    ASSERT_TRUE(IndexerReaches(*ix, last, std::chrono::seconds(5))) << "round " << round;
  }
  EXPECT_EQ(ix->Get("n")->revision, 20u);
  EXPECT_EQ(ix->Get("w0")->revision, 20u);
  // Right after a waiter indexed: Close does not wait out a rest or a poll.
  ASSERT_TRUE(ix->WaitFor(Commit({Kv("w0", "x")}), 5000).ok());
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(ix->Close().ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1000));
}

// With a long gather the indexer thread waits for more commits before it
// indexes: a waiter must not wait for that, and Close must cut it short.
TEST_F(IndexTest, WaitersAndCloseDoNotWaitForTheIndexersGather) {
  IndexOptions o;
  o.gather_us = 30'000'000;
  auto ix = OpenIndex(o);
  ASSERT_NE(ix, nullptr);
  const uint64_t first = Commit({Kv("a", "1")});
  // The commit wakes the indexer thread, which now gathers for 30 s (or,
  // had it not reached its wait yet, indexed the tx at once).
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const uint64_t second = Commit({Kv("a", "2")});
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(ix->WaitFor(second, 10'000).ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_GE(ix->IndexedUpTo(), second);
  EXPECT_EQ(ix->Get("a")->revision, 2u);
  EXPECT_EQ(ix->Get("a")->tx, second);
  EXPECT_EQ(ix->GetRevision("a", 1)->tx, first);
  // Nobody waits for this one: the thread is gathering when Close comes.
  Commit({Kv("b", "1")});
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  start = std::chrono::steady_clock::now();
  ASSERT_TRUE(ix->Close().ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

// Commits nobody waits for are indexed by the thread once its gather ends,
// all of those that came within it.
TEST_F(IndexTest, CommitsWithinTheGatherAreIndexedWhenItEnds) {
  IndexOptions o;
  o.gather_us = 1'000'000;
  auto ix = OpenIndex(o);
  ASSERT_NE(ix, nullptr);
  // Let the indexer thread reach its wait for the next commit.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto start = std::chrono::steady_clock::now();
  uint64_t last = 0;
  for (int i = 0; i < 10; i++) last = Commit({Kv("k", std::to_string(i))});
  // The first commit started the gather; unless the commits took most of it
  // (a loaded machine), the later ones are not indexed yet.
  if (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(500)) {
    EXPECT_LT(ix->IndexedUpTo(), last);
  }
  ASSERT_TRUE(IndexerReaches(*ix, last, std::chrono::seconds(10)));
  EXPECT_EQ(ix->Get("k")->revision, 10u);
  auto history = ix->History("k", 0, 100, false);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 10u);
  for (uint64_t i = 0; i < 10; i++) EXPECT_EQ((*history)[i].revision, i + 1);
}

// While the index lags behind large txs, the store keeps the txs it has not
// read in memory past the usual 65,536 entries (Store::KeepRecentTxsAfter),
// so the indexer takes them from there instead of reading them back from the
// log; once indexed, or once the index is closed, they may go.
TEST(IndexStoreMemoryTest, TxsTheIndexerHasNotReadStayInTheStoresMemory) {
  testutil::TempDir dir;
  StoreOptions so;
  so.synced = false;
  so.max_tx_entries = 4000;
  auto opened = Store::Open(dir.Sub("store"), so);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<Store> store = std::move(opened).value();
  IndexOptions o;
  o.gather_us = 30'000'000;  // The indexer thread waits; the test's WaitFor indexes.
  auto ix = Index::Open(dir.Sub("store/index"), store.get(), o);
  ASSERT_TRUE(ix.ok()) << ix.status().ToString();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  constexpr int kEntries = 4000;  // 16 such txs fit 65,536 entries.
  auto key = [](uint64_t tx, int e) { return "k" + std::to_string(tx) + "_" + std::to_string(e); };
  auto commit = [&](int n) {
    for (int t = 0; t < n; t++) {
      const uint64_t tx = store->CurrentState().tx_id + 1;
      std::vector<EntrySpec> es;
      for (int e = 0; e < kEntries; e++) es.push_back(Kv(key(tx, e), "v"));
      auto h = store->Commit(std::move(es));
      ASSERT_TRUE(h.ok()) << h.status().ToString();
    }
  };
  // Shared from the store's memory (which holds it too), not read from the
  // log (only the caller holds it).
  auto in_memory = [&](uint64_t id) {
    std::vector<std::shared_ptr<const Tx>> got;
    EXPECT_TRUE(store->ReadTxsFollowingShared(id, 1, &got).ok());
    return got.size() == 1 && got[0].use_count() >= 2;
  };
  commit(40);
  if (::testing::Test::HasFatalFailure()) return;
  // The indexer thread is gathering: it has read at most the first tx.
  const uint64_t read = (*ix)->IndexedUpTo();
  ASSERT_LE(read, 1u);
  for (uint64_t id = read + 1; id <= 40; id++) EXPECT_TRUE(in_memory(id)) << id;
  ASSERT_TRUE((*ix)->WaitFor(40, 30'000).ok());
  for (uint64_t tx = 1; tx <= 40; tx++) {
    for (int e : {0, kEntries - 1}) {
      auto got = (*ix)->Get(key(tx, e));
      ASSERT_TRUE(got.ok()) << key(tx, e) << ": " << got.status().ToString();
      EXPECT_EQ(got->tx, tx);
      EXPECT_EQ(got->index, static_cast<uint32_t>(e));
      EXPECT_EQ(got->revision, 1u);
    }
  }
  // Indexed: the next commit lets them go, down to the usual bound.
  commit(1);
  if (::testing::Test::HasFatalFailure()) return;
  EXPECT_FALSE(in_memory(41 - 16));
  EXPECT_TRUE(in_memory(41 - 15));
  // Closed: no reader follows the log, so commits it will not read are kept
  // within the usual bound only.
  ASSERT_TRUE((*ix)->Close().ok());
  commit(20);
  if (::testing::Test::HasFatalFailure()) return;
  EXPECT_FALSE(in_memory(61 - 16));
  EXPECT_TRUE(in_memory(61 - 15));
}

TEST_F(IndexTest, MissingIndexIsRebuilt) {
  uint64_t t = 0;
  {
    auto ix = OpenIndex();
    for (int i = 0; i < 20; i++) t = Commit({Kv("k" + std::to_string(i % 7), std::to_string(i))});
    ASSERT_TRUE(ix->WaitFor(t, 5000).ok());
  }
  std::filesystem::remove_all(dir_.Sub("store/index"));
  auto ix = OpenIndex();
  ASSERT_TRUE(ix->WaitFor(t, 5000).ok());
  EXPECT_EQ(ix->Get("k6")->revision, 2u);
  EXPECT_EQ(ValueOf(*ix->Get("k6")), "13");
  EXPECT_EQ(*ix->Count("k"), 7u);
}

// Overwrites every byte of files whose name satisfies `pred` with garbage.
int DamageFiles(const std::string& dir, const std::function<bool(const std::string&)>& pred) {
  int n = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir)) {
    const std::string name = f.path().filename().string();
    if (!f.is_regular_file() || !pred(name)) continue;
    const auto size = std::filesystem::file_size(f.path());
    std::fstream out(f.path(), std::ios::in | std::ios::out | std::ios::binary);
    for (uint64_t i = 0; i < size; i += 7) {
      out.seekp(static_cast<std::streamoff>(i));
      out.put(static_cast<char>(0x5a ^ (i & 0xff)));
    }
    n++;
  }
  return n;
}

class IndexDamageTest : public IndexTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(IndexDamageTest, DamagedIndexIsRebuiltOnOpen) {
  uint64_t t = 0;
  {
    auto ix = OpenIndex();
    for (int i = 0; i < 50; i++) t = Commit({Kv("k" + std::to_string(i % 10), std::to_string(i))});
    ASSERT_TRUE(ix->WaitFor(t, 5000).ok());
    ASSERT_TRUE(ix->Close().ok());
  }
  const std::string kind = GetParam();
  const int damaged = DamageFiles(dir_.Sub("store/index"), [&](const std::string& name) {
    return name.find(kind) != std::string::npos;
  });
  ASSERT_GT(damaged, 0) << kind;
  auto ix = OpenIndex();
  ASSERT_NE(ix, nullptr);
  if (kind == "CURRENT" || kind == "MANIFEST" || kind == ".sst") {
    EXPECT_TRUE(ix->rebuilt_on_open()) << kind;
  }
  ASSERT_TRUE(ix->WaitFor(t, 5000).ok());
  for (int k = 0; k < 10; k++) {
    auto e = ix->Get("k" + std::to_string(k));
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    EXPECT_EQ(e->revision, 5u);
    EXPECT_EQ(ValueOf(*e), std::to_string(40 + k));
  }
}

INSTANTIATE_TEST_SUITE_P(IndexFiles, IndexDamageTest,
                         ::testing::Values("CURRENT", "MANIFEST", ".sst", "OPTIONS", ".log"));

// Point reads from SST files through a block cache far smaller than the
// index (blocks evicted and read again), before and after a reopen: every
// key's latest record must be its own.
TEST_F(IndexTest, AnEmptyIndexHasNoLatestRecordBytes) {
  auto ix = OpenIndex();
  ASSERT_NE(ix, nullptr);
  EXPECT_EQ(ix->LatestRecordsBytes(), 0u);
  EXPECT_EQ(ix->BlockCacheBytes(), IndexOptions{}.block_cache_bytes);
}

TEST_F(IndexTest, GetsThroughASmallBlockCacheReturnEachKeysRecord) {
  IndexOptions o;
  o.block_cache_bytes = 1 << 20;
  o.write_buffer_bytes = 256 << 10;
  const int kKeys = 30000;
  auto key = [](int i) {
    char k[16];
    std::snprintf(k, sizeof(k), "key%08d", i);
    return std::string(k);
  };
  std::vector<uint64_t> tx_of(kKeys);
  {
    auto ix = Index::Open(dir_.Sub("store/index"), store_.get(), o);
    ASSERT_TRUE(ix.ok()) << ix.status().ToString();
    for (int i = 0; i < kKeys; i += 100) {
      std::vector<EntrySpec> es;
      for (int j = i; j < i + 100; j++) es.push_back(Kv(key(j), "v" + std::to_string(j)));
      const uint64_t tx = Commit(std::move(es));
      for (int j = i; j < i + 100; j++) tx_of[j] = tx;
    }
    // Second versions of every third key.
    for (int i = 0; i < kKeys; i += 300) {
      std::vector<EntrySpec> es;
      for (int j = i; j < i + 300; j += 3) es.push_back(Kv(key(j), "w" + std::to_string(j)));
      const uint64_t tx = Commit(std::move(es));
      for (int j = i; j < i + 300; j += 3) tx_of[j] = tx;
    }
    ASSERT_TRUE((*ix)->WaitFor(store_->CurrentState().tx_id, 10000).ok());
    ASSERT_TRUE((*ix)->Compact().ok());
    ASSERT_TRUE((*ix)->Close().ok());
  }
  o.block_cache_max_bytes = 4 << 20;
  auto ix = Index::Open(dir_.Sub("store/index"), store_.get(), o);
  ASSERT_TRUE(ix.ok()) << ix.status().ToString();
  EXPECT_FALSE((*ix)->rebuilt_on_open());
  // 30,000 latest records of about 70 bytes in the files.
  const uint64_t latest = (*ix)->LatestRecordsBytes();
  EXPECT_GT(latest, 30000u * 40);
  EXPECT_LT(latest, 30000u * 200);
  EXPECT_EQ((*ix)->BlockCacheBytes(), size_t{1} << 20);
  for (int round = 0; round < 2; round++) {
    if (round == 1) {  // The same reads through a raised cache.
      (*ix)->SetBlockCacheBytes(4 << 20);
      EXPECT_EQ((*ix)->BlockCacheBytes(), size_t{4} << 20);
    }
    for (int n = 0; n < kKeys; n++) {
      const int i = static_cast<int>((static_cast<uint64_t>(n) * 7919) % kKeys);
      auto e = (*ix)->Get(key(i));
      ASSERT_TRUE(e.ok()) << key(i) << ": " << e.status().ToString();
      ASSERT_EQ(e->tx, tx_of[i]) << key(i);
      ASSERT_EQ(e->revision, i % 3 == 0 ? 2u : 1u) << key(i);
      ASSERT_EQ(ValueOf(*e), (i % 3 == 0 ? "w" : "v") + std::to_string(i)) << key(i);
    }
  }
}

}  // namespace
}  // namespace immudb::index
