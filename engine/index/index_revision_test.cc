// Revisions: the revision cache, and revisions that stay right across
// batches, reopen, rebuild, and an indexer killed mid-batch.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "index/index.h"
#include "index/revision_cache.h"
#include "testutil/test_util.h"

namespace immudb::index {
namespace {

using testutil::TempDir;

TEST(RevisionCacheTest, HitsAreExactAndEvictionIsBounded) {
  RevisionCache c(4);
  EXPECT_EQ(c.capacity(), 4u);
  EXPECT_FALSE(c.Lookup("a"));
  c.Insert("a", 1);
  c.Insert("a", 2);
  EXPECT_EQ(c.Lookup("a"), 2u);
  for (int i = 0; i < 100; i++) c.Insert("k" + std::to_string(i), i + 1);
  int hits = 0;
  for (int i = 0; i < 100; i++) {
    auto r = c.Lookup("k" + std::to_string(i));
    if (r) {
      EXPECT_EQ(*r, static_cast<uint64_t>(i + 1));  // Never another key's revision.
      hits++;
    }
  }
  EXPECT_LE(hits, 4);
  c.Clear();
  for (int i = 0; i < 100; i++) EXPECT_FALSE(c.Lookup("k" + std::to_string(i)));

  RevisionCache none(0);
  none.Insert("a", 1);
  EXPECT_FALSE(none.Lookup("a"));
}

TEST(RevisionCacheTest, LongAndShortKeysShareASlot) {
  RevisionCache c(1);  // Every key in the one slot.
  const std::string long_a(RevisionCache::kInlineKey + 8, 'a');
  const std::string long_b = long_a.substr(0, long_a.size() - 1) + "b";
  const std::string longer(RevisionCache::kInlineKey * 3, 'a');
  const std::string inline_max(RevisionCache::kInlineKey, 'a');
  c.Insert(long_a, 1);
  EXPECT_EQ(c.Lookup(long_a), 1u);
  EXPECT_FALSE(c.Lookup(long_b));
  EXPECT_FALSE(c.Lookup(inline_max));  // A prefix of the cached key.
  c.Insert(inline_max, 2);
  EXPECT_EQ(c.Lookup(inline_max), 2u);
  EXPECT_FALSE(c.Lookup(long_a));
  c.Insert(longer, 3);  // Grows the slot's long-key buffer.
  EXPECT_EQ(c.Lookup(longer), 3u);
  EXPECT_FALSE(c.Lookup(long_a));
  c.Insert(long_b, 4);  // Reuses it.
  EXPECT_EQ(c.Lookup(long_b), 4u);
  EXPECT_FALSE(c.Lookup(longer));
  EXPECT_FALSE(c.Lookup(long_a));
  c.Insert("", 5);
  EXPECT_EQ(c.Lookup(""), 5u);
  EXPECT_FALSE(c.Lookup(long_b));
}

// Expected index contents, built from the tx log alone.
using Model = std::map<std::string, std::vector<uint64_t>>;  // Key -> tx of each revision.

Model ModelOf(const Store& store, uint64_t upto) {
  Model m;
  for (uint64_t id = 1; id <= upto; id++) {
    auto tx = store.ReadTx(id);
    EXPECT_TRUE(tx.ok()) << tx.status().ToString();
    if (!tx.ok()) break;
    for (const TxEntry& e : tx->entries) {
      if (!e.md.non_indexable) m[e.key].push_back(id);
    }
  }
  return m;
}

void ExpectMatches(const Index& ix, const Model& m) {
  for (const auto& [key, txs] : m) {
    auto latest = ix.Get(key);
    ASSERT_TRUE(latest.ok()) << key << ": " << latest.status().ToString();
    EXPECT_EQ(latest->revision, txs.size()) << key;
    EXPECT_EQ(latest->tx, txs.back()) << key;
    auto h = ix.History(key, 0, txs.size() + 1, false);
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    ASSERT_EQ(h->size(), txs.size()) << key;
    for (size_t r = 0; r < txs.size(); r++) {
      EXPECT_EQ((*h)[r].tx, txs[r]) << key << " revision " << r + 1;
      EXPECT_EQ((*h)[r].revision, r + 1) << key;
    }
    EXPECT_TRUE(ix.GetRevision(key, txs.size() + 1).status().IsNotFound()) << key;
  }
  auto n = ix.Count("");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, m.size());
}

// Commits `txs` txs of up to 5 distinct keys drawn from `keys` keys.
uint64_t CommitRandom(Store* store, int txs, int keys, uint64_t seed) {
  uint64_t last = 0, x = seed;
  for (int t = 0; t < txs; t++) {
    std::map<std::string, std::string> kvs;
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    const int n = 1 + static_cast<int>((x >> 33) % 5);
    for (int i = 0; i < n; i++) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      kvs["k" + std::to_string((x >> 33) % keys)] = std::to_string(t);
    }
    std::vector<EntrySpec> es;
    for (auto& [k, v] : kvs) es.push_back(EntrySpec{k, v, {}});
    auto h = store->Commit(std::move(es));
    EXPECT_TRUE(h.ok()) << h.status().ToString();
    if (h.ok()) last = h->id;
  }
  return last;
}

TEST(IndexRevisionTest, TinyCacheAndSmallBatchesAcrossReopenAndRebuild) {
  TempDir dir;
  auto store = Store::Open(dir.Sub("store"), StoreOptions{.synced = false});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  IndexOptions o;
  o.revision_cache_entries = 2;  // Mostly misses and evictions.
  o.max_batch_entries = 3;
  const std::string ix_dir = dir.Sub("store/index");
  uint64_t last = 0;
  {
    auto ix = Index::Open(ix_dir, store->get(), o);
    ASSERT_TRUE(ix.ok());
    last = CommitRandom(store->get(), 150, 13, 1);
    ASSERT_TRUE((*ix)->WaitFor(last, 10000).ok());
    ExpectMatches(**ix, ModelOf(**store, last));
  }
  {
    // Reopened: the cache starts empty, revisions continue from RocksDB.
    auto ix = Index::Open(ix_dir, store->get(), o);
    ASSERT_TRUE(ix.ok());
    EXPECT_FALSE((*ix)->rebuilt_on_open());
    last = CommitRandom(store->get(), 150, 17, 2);
    ASSERT_TRUE((*ix)->WaitFor(last, 10000).ok());
    ExpectMatches(**ix, ModelOf(**store, last));
  }
  std::filesystem::remove_all(ix_dir);
  IndexOptions big;  // Default cache and batches: one batch of everything.
  auto ix = Index::Open(ix_dir, store->get(), big);
  ASSERT_TRUE(ix.ok());
  ASSERT_TRUE((*ix)->WaitFor(last, 10000).ok());
  ExpectMatches(**ix, ModelOf(**store, last));
}

// A batch whose keys all need their 'L' record read (no revision cache),
// more of them than one MultiGet call takes: every revision continues from
// the right record, across the calls.
TEST(IndexRevisionTest, ABatchOfManyRewrittenKeysReadsTheirRecordsInSeveralCalls) {
  TempDir dir;
  auto store = Store::Open(dir.Sub("store"), StoreOptions{.synced = false});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  IndexOptions o;
  o.revision_cache_entries = 0;
  auto ix = Index::Open(dir.Sub("store/index"), store->get(), o);
  ASSERT_TRUE(ix.ok()) << ix.status().ToString();
  constexpr int kKeys = 1000;  // Within StoreOptions::max_tx_entries.
  auto commit_all = [&](int step) {
    std::vector<EntrySpec> es;
    for (int k = 0; k < kKeys; k += step) {
      char key[16];
      std::snprintf(key, sizeof(key), "k%05d", k);
      es.push_back(EntrySpec{key, "v" + std::to_string(step), {}});
    }
    auto h = (*store)->Commit(std::move(es));
    EXPECT_TRUE(h.ok()) << h.status().ToString();
    return h.ok() ? h->id : 0;
  };
  // Revision 1 of every key; then every other key (500 records to read) and
  // every third (334), each in a tx and a batch of its own.
  ASSERT_TRUE((*ix)->WaitFor(commit_all(1), 10000).ok());
  const uint64_t a = commit_all(2);
  ASSERT_GT(a, 0u);
  ASSERT_TRUE((*ix)->WaitFor(a, 10000).ok());
  const uint64_t last = commit_all(3);
  ASSERT_TRUE((*ix)->WaitFor(last, 10000).ok());
  ExpectMatches(**ix, ModelOf(**store, last));
  auto k0 = (*ix)->Get("k00000");
  ASSERT_TRUE(k0.ok());
  EXPECT_EQ(k0->revision, 3u);
  auto k1 = (*ix)->Get("k00001");
  ASSERT_TRUE(k1.ok());
  EXPECT_EQ(k1->revision, 1u);
}

// Without a revision cache, a key past every indexed key is new without a
// lookup; the greatest key must then count up when written again, in the
// same run and after a reopen, and keys below it still need their lookup.
TEST(IndexRevisionTest, KeysPastTheGreatestIndexedKeyAcrossReopen) {
  TempDir dir;
  auto store = Store::Open(dir.Sub("store"), StoreOptions{.synced = false});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  IndexOptions o;
  o.revision_cache_entries = 0;
  o.max_batch_txs = 1;
  const std::string ix_dir = dir.Sub("store/index");
  auto commit = [&](std::vector<std::string> keys) {
    std::vector<EntrySpec> es;
    for (auto& k : keys) es.push_back(EntrySpec{k, "v", {}});
    auto h = (*store)->Commit(std::move(es));
    EXPECT_TRUE(h.ok()) << h.status().ToString();
    return h.ok() ? h->id : 0;
  };
  uint64_t last = 0;
  for (int round = 0; round < 3; round++) {
    auto ix = Index::Open(ix_dir, store->get(), o);
    ASSERT_TRUE(ix.ok());
    const std::string r = std::to_string(round);
    commit({"b" + r});
    commit({"b" + r});                      // The greatest key, again.
    commit({"a", "c" + r, "c" + r + "x"});  // Below and past it.
    commit({"c" + r + "x"});
    commit({"c" + r});  // Now below the greatest.
    last = commit({"a", "b" + r, "d" + r});
    ASSERT_TRUE((*ix)->WaitFor(last, 10000).ok());
    ExpectMatches(**ix, ModelOf(**store, last));
  }
  // After a reopen the first key written is the greatest one.
  auto ix = Index::Open(ix_dir, store->get(), o);
  ASSERT_TRUE(ix.ok());
  last = commit({"d2"});
  ASSERT_TRUE((*ix)->WaitFor(last, 10000).ok());
  EXPECT_EQ((*ix)->Get("d2")->revision, 2u);
  ExpectMatches(**ix, ModelOf(**store, last));
}

// The child side of KilledIndexerLeavesAConsistentPrefix: runs only in the
// process that test starts (IMMUDB_INDEX_CRASH_DIR set). It commits and
// indexes until killed, with memtables small enough to flush often.
// Txs of ascending keys are laid out by whole txs when their key ranges do
// not overlap, and sorted entry by entry otherwise: both give the same
// records as the log.
TEST(IndexRevisionTest, BatchesOfDisjointOverlappingAndUnorderedTxs) {
  TempDir dir;
  auto store = Store::Open(dir.Sub("store"), StoreOptions{.synced = false});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto key = [](int i) {
    char buf[16];
    std::snprintf(buf, sizeof(buf), "r%04d", i);
    return std::string(buf);
  };
  auto commit = [&](std::vector<int> keys, int version) {
    std::vector<EntrySpec> es;
    for (int k : keys) es.push_back(EntrySpec{key(k), key(k) + "v" + std::to_string(version), {}});
    auto h = (*store)->Commit(std::move(es));
    EXPECT_TRUE(h.ok()) << h.status().ToString();
    return h.ok() ? h->id : 0;
  };
  auto range = [](int from, int n) {
    std::vector<int> r;
    for (int i = 0; i < n; i++) r.push_back(from + i);
    return r;
  };
  const std::string ix_dir = dir.Sub("store/index");
  // Each phase is committed with the index closed, so that the reopen
  // indexes it in one batch (and with an empty revision cache).
  uint64_t last = 0;
  auto index_phase = [&] {
    auto ix = Index::Open(ix_dir, store->get(), IndexOptions{});
    EXPECT_TRUE(ix.ok()) << ix.status().ToString();
    if (!ix.ok()) return;
    EXPECT_TRUE((*ix)->WaitFor(last, 10000).ok());
    ExpectMatches(**ix, ModelOf(**store, last));
    EXPECT_TRUE((*ix)->Close().ok());
  };
  // 1: ascending txs of disjoint ranges, committed out of key order.
  for (int t = 0; t < 20; t++) last = commit(range(((t * 7) % 20) * 10, 10), 1);
  index_phase();
  // Disjoint txs committed in key order: second versions, then new keys.
  last = commit({150, 151}, 7);
  last = commit(range(400, 10), 1);
  last = commit(range(410, 10), 1);
  index_phase();
  // 2: second versions of some of them, disjoint and out of order, and new
  // keys past them.
  for (int t : {3, 1, 25, 2}) last = commit(range(t * 10, 10), 2);
  index_phase();
  // 3: overlapping ranges: keys in two txs of the batch.
  last = commit(range(5, 10), 3);
  last = commit(range(10, 10), 4);
  index_phase();
  // 4: txs whose keys do not ascend, reaching below and past the rest.
  last = commit({42, 41, 40, 7}, 5);
  last = commit({300, 0, 150}, 6);
  index_phase();
  auto ix = Index::Open(ix_dir, store->get(), IndexOptions{});
  ASSERT_TRUE(ix.ok()) << ix.status().ToString();
  ASSERT_TRUE((*ix)->WaitFor(last, 10000).ok());
  EXPECT_EQ((*ix)->Get(key(10))->revision, 4u);  // Phases 1 and 2, both txs of 3.
  EXPECT_EQ((*ix)->Get(key(7))->revision, 3u);   // Phases 1, 3 and 4.
  EXPECT_EQ((*ix)->Get(key(0))->revision, 2u);
  EXPECT_EQ((*ix)->Get(key(300))->revision, 1u);
  EXPECT_EQ((*ix)->Get(key(255))->revision, 1u);
  EXPECT_EQ((*ix)->Get(key(419))->revision, 1u);
  EXPECT_EQ((*ix)->Get(key(150))->revision, 3u);  // Phase 1, {150, 151} and phase 4.
}

TEST(IndexCrashChild, CommitAndIndexUntilKilled) {
  const char* dir = std::getenv("IMMUDB_INDEX_CRASH_DIR");
  if (dir == nullptr) GTEST_SKIP() << "runs as the child of a crash test";
  auto store = Store::Open(std::string(dir) + "/store", StoreOptions{.synced = false});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  IndexOptions o;
  o.write_buffer_bytes = 64 << 10;
  o.max_batch_entries = 50;
  o.revision_cache_entries = 64;
  auto ix = Index::Open(std::string(dir) + "/store/index", store->get(), o);
  ASSERT_TRUE(ix.ok());
  for (uint64_t round = 1;; round++) {
    CommitRandom(store->get(), 100, 500, round);
    // Tells the parent that txs exist, so its kill lands while they are indexed.
    if (round == 1) std::ofstream(std::string(dir) + "/started").put('1');
  }
}

TEST(IndexCrashTest, KilledIndexerLeavesAConsistentPrefix) {
  TempDir dir;
  for (int attempt = 0; attempt < 3; attempt++) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      setenv("IMMUDB_INDEX_CRASH_DIR", dir.path().c_str(), 1);
      execl("/proc/self/exe", "engine_tests", "--gtest_filter=IndexCrashChild.*",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    // The child starts slowly under sanitizers and load: wait for its first
    // commits, then let it run on a while before the kill.
    const std::string started = dir.Sub("started");
    for (int i = 0; i < 6000 && !std::filesystem::exists(started); i++) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100 + 300 * attempt));
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    std::filesystem::remove(started);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << status;

    auto store = Store::Open(dir.Sub("store"), StoreOptions{.synced = false});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    const uint64_t last = (*store)->CurrentState().tx_id;
    ASSERT_GT(last, 0u);
    auto ix = Index::Open(dir.Sub("store/index"), store->get(), IndexOptions{});
    ASSERT_TRUE(ix.ok());
    // Whatever RocksDB kept, the marker says exactly which prefix it is:
    // indexing the rest must give the same records as indexing from scratch.
    const uint64_t kept = (*ix)->IndexedUpTo();
    std::printf("attempt %d: %llu txs committed, index kept %llu%s\n", attempt,
                static_cast<unsigned long long>(last), static_cast<unsigned long long>(kept),
                (*ix)->rebuilt_on_open() ? " (rebuilt)" : "");
    EXPECT_LE(kept, last);
    ASSERT_TRUE((*ix)->WaitFor(last, 30000).ok());
    ExpectMatches(**ix, ModelOf(**store, last));
  }
}

}  // namespace
}  // namespace immudb::index
