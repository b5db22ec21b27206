#include "immudb/store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <bit>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>
#include <utility>

#include "immudb/verify.h"
#include "store/log_format.h"
#include "store/verify_dir.h"
#include "testutil/test_util.h"

namespace immudb {
namespace {

using testutil::TempDir;

EntrySpec Kv(std::string k, std::string v) { return EntrySpec{std::move(k), std::move(v), {}}; }

StoreOptions FixedClock(int64_t base) {
  StoreOptions o;
  auto t = std::make_shared<std::atomic<int64_t>>(base);
  o.now_unix_seconds = [t] { return ++*t; };
  return o;
}

std::unique_ptr<Store> MustOpen(const std::string& dir, const StoreOptions& o = {}) {
  auto s = Store::Open(dir, o);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

TEST(StoreTest, EmptyStoreStateIsGenesis) {
  TempDir d;
  auto s = MustOpen(d.path());
  StoreState st = s->CurrentState();
  EXPECT_EQ(st.tx_id, 0u);
  EXPECT_EQ(st.alh, EmptyHash());
  EXPECT_TRUE(s->ReadTx(1).status().IsNotFound());
}

TEST(StoreTest, CommitThenReadBackTxAndValues) {
  TempDir d;
  auto s = MustOpen(d.path());
  auto h = s->Commit({Kv(std::string("\0k1", 3), std::string("\0v1", 3)),
                      Kv(std::string("\0k2", 3), std::string(1000, 'x'))});
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->id, 1u);
  EXPECT_EQ(h->version, 0);
  EXPECT_EQ(h->nentries, 2u);
  EXPECT_EQ(h->prev_alh, EmptyHash());
  EXPECT_EQ(h->bl_tx_id, 0u);
  EXPECT_EQ(h->bl_root, ZeroHash());
  auto tx = s->ReadTx(1);
  ASSERT_TRUE(tx.ok()) << tx.status().ToString();
  EXPECT_EQ(tx->header, *h);
  ASSERT_EQ(tx->entries.size(), 2u);
  EXPECT_EQ(tx->entries[0].key, std::string("\0k1", 3));
  EXPECT_EQ(*s->ReadValue(tx->entries[0]), std::string("\0v1", 3));
  EXPECT_EQ(*s->ReadValue(tx->entries[1]), std::string(1000, 'x'));
  EXPECT_EQ(s->CurrentState().tx_id, 1u);
  EXPECT_EQ(s->CurrentState().alh, *h->Alh());
}

TEST(StoreTest, InvalidTransactionsAreRejectedAndWriteNothing) {
  TempDir d;
  StoreOptions o;
  o.max_key_len = 8;
  o.max_value_len = 16;
  o.max_tx_entries = 2;
  auto s = MustOpen(d.path(), o);
  EXPECT_TRUE(s->Commit({}).status().IsInvalidArgument());
  EXPECT_TRUE(s->Commit({Kv("", "v")}).status().IsInvalidArgument());
  EXPECT_TRUE(s->Commit({Kv("123456789", "v")}).status().IsInvalidArgument());
  EXPECT_TRUE(s->Commit({Kv("k", std::string(17, 'v'))}).status().IsInvalidArgument());
  EXPECT_TRUE(s->Commit({Kv("a", "1"), Kv("b", "2"), Kv("c", "3")}).status().IsInvalidArgument());
  EXPECT_TRUE(s->Commit({Kv("a", "1"), Kv("a", "2")}).status().IsInvalidArgument());
  EXPECT_EQ(s->CurrentState().tx_id, 0u);
  // Limits are inclusive and the store still works.
  ASSERT_TRUE(s->Commit({Kv("12345678", std::string(16, 'v')), Kv("b", "")}).ok());
  EXPECT_EQ(s->CurrentState().tx_id, 1u);
}

TEST(StoreTest, CommitReusingHandsTheEntriesBackForTheNextTx) {
  TempDir d;
  StoreOptions o;
  o.max_tx_entries = 8;
  auto s = MustOpen(d.path(), o);
  std::vector<EntrySpec> es;
  for (int i = 0; i < 6; i++)
    es.push_back(Kv("key-" + std::to_string(i), std::string(200, 'a' + i)));
  auto h1 = s->CommitReusing(&es);
  ASSERT_TRUE(h1.ok()) << h1.status().ToString();
  // The vector comes back with its values' buffers.
  ASSERT_EQ(es.size(), 6u);
  std::vector<const char*> buffers;
  for (EntrySpec& e : es) {
    EXPECT_GE(e.value.capacity(), 200u);
    buffers.push_back(e.value.data());
  }
  // The next tx assigned into the same strings is committed as written, in
  // those buffers, and the first tx is unchanged.
  for (int i = 0; i < 6; i++) {
    es[i].key = "next-" + std::to_string(i);
    es[i].value.assign(150, 'p' + i);
  }
  auto h2 = s->CommitReusing(&es);
  ASSERT_TRUE(h2.ok()) << h2.status().ToString();
  EXPECT_EQ(h2->id, 2u);
  ASSERT_EQ(es.size(), 6u);
  for (int i = 0; i < 6; i++) EXPECT_EQ(es[i].value.data(), buffers[i]) << i;
  for (uint64_t id : {1, 2}) {
    auto tx = s->ReadTx(id);
    ASSERT_TRUE(tx.ok()) << tx.status().ToString();
    ASSERT_EQ(tx->entries.size(), 6u);
    for (int i = 0; i < 6; i++) {
      const std::string n = std::to_string(i);
      EXPECT_EQ(tx->entries[i].key, (id == 1 ? "key-" : "next-") + n);
      EXPECT_EQ(*s->ReadValue(tx->entries[i]),
                id == 1 ? std::string(200, 'a' + i) : std::string(150, 'p' + i));
    }
  }
  // A refused tx (a repeated key) writes nothing and comes back as it was.
  es[1].key = es[0].key;
  EXPECT_TRUE(s->CommitReusing(&es).status().IsInvalidArgument());
  ASSERT_EQ(es.size(), 6u);
  EXPECT_EQ(es[1].key, "next-0");
  EXPECT_EQ(s->CurrentState().tx_id, 2u);
}

TEST(StoreTest, HeaderVersionIsOneOnlyWhenAnEntryHasMetadata) {
  TempDir d;
  auto s = MustOpen(d.path());
  auto h0 = s->Commit({Kv("k", "v")});
  EntrySpec del{"k", "", {}};
  del.md.deleted = true;
  auto h1 = s->Commit({del});
  ASSERT_TRUE(h0.ok() && h1.ok());
  EXPECT_EQ(h0->version, 0);
  EXPECT_EQ(h1->version, 1);
  auto tx = s->ReadTx(2);
  ASSERT_TRUE(tx.ok());
  EXPECT_TRUE(tx->entries[0].md.deleted);
  EXPECT_EQ(tx->entries[0].hval, EmptyHash());
}

// proofs.md §8 C0: eight version-0 txs; tx i has (i mod 3)+1 entries
// k<i>_<e> -> v<i>_<e>, Ts = 1700000000 + i.
std::vector<EntrySpec> ChainTx(int i) {
  std::vector<EntrySpec> es;
  for (int e = 0; e < (i % 3) + 1; e++) {
    // Set(k, v) stores 0x00 || k and 0x00 || v (proofs.md §1.1).
    es.push_back(Kv(std::string(1, '\0') + "k" + std::to_string(i) + "_" + std::to_string(e),
                    std::string(1, '\0') + "v" + std::to_string(i) + "_" + std::to_string(e)));
  }
  return es;
}

TEST(StoreTest, ReproducesSpecChainC0) {
  const char* kAlh[8] = {"f80d9e736d8adc608b7471939e2a2e3ed4b64981faf7c9cfa3c6f6a3c086147f",
                         "77548a9fb5ec56560ab0bd12375c5c01f6b4b99c5eab14a2c65b02d5aefd857a",
                         "7df8a0caba7f0d555531c80facfd1cff2b8b85574b38c7e19b558953c61dab2a",
                         "ca5b12fe2f8ef350ac056a82c73996489efe129b75f83f41007e2eca199edc9e",
                         "d5f97c7ba24f3d486f2d54d91279122f24c44e7307528c1ea371e008c130ff62",
                         "4f739a23137249f4f503f245270b9c9a7a7192cad2efb86293a068b035ce1bd1",
                         "401560bde037a4aadbe5cd5c6cf61ca77d60ebb2e3a6e81f575122b55fbdbd70",
                         "596b85e7ad484ccddd010112321f27168c5a467bc0524103aeb5e7797e5ea48d"};
  TempDir d;
  auto s = MustOpen(d.path(), FixedClock(1700000000));
  for (int i = 1; i <= 8; i++) {
    auto h = s->Commit(ChainTx(i));
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    EXPECT_EQ(h->ts, 1700000000 + i);
    EXPECT_EQ(ToHex(*h->Alh()), kAlh[i - 1]) << "tx " << i;
  }
  EXPECT_EQ(ToHex(s->CurrentState().alh), kAlh[7]);
}

TEST(StoreTest, DualAndInclusionProofsVerifyForAllPairs) {
  TempDir d;
  auto s = MustOpen(d.path());
  const int n = 40;
  for (int i = 1; i <= n; i++) ASSERT_TRUE(s->Commit(ChainTx(i)).ok());
  std::vector<TxHeader> hs(n + 1);
  for (int i = 1; i <= n; i++) hs[i] = *s->ReadTxHeader(i);
  for (int a = 1; a <= n; a++) {
    for (int b = a; b <= n; b++) {
      auto p = s->BuildDualProof(hs[a], hs[b]);
      ASSERT_TRUE(p.ok()) << p.status().ToString();
      EXPECT_TRUE(verify::VerifyDualProof(*p, a, b, *hs[a].Alh(), *hs[b].Alh())) << a << "," << b;
      if (a < b) {
        EXPECT_FALSE(verify::VerifyDualProof(*p, a, b, *hs[a].Alh(), *hs[b - 1].Alh()));
      }
    }
    auto tx = s->ReadTx(a);
    ASSERT_TRUE(tx.ok());
    for (size_t e = 0; e < tx->entries.size(); e++) {
      auto ip = s->EntryInclusionProof(a, e);
      ASSERT_TRUE(ip.ok());
      EXPECT_TRUE(verify::VerifyHtreeInclusion(*ip, *tx->entries[e].Digest(0), hs[a].eh));
    }
  }
}

// ReadTxHeader keeps the headers it read in a few slots by id: repeated and
// colliding reads (ids 64 apart share a slot) give the committed headers,
// before and after a reopen, and ids past the last tx stay NotFound.
TEST(StoreTest, RepeatedHeaderReadsGiveTheCommittedHeaders) {
  TempDir d;
  const int n = 200;
  std::vector<TxHeader> committed(n + 1);
  {
    auto s = MustOpen(d.path());
    for (int i = 1; i <= n; i++) {
      auto h = s->Commit(ChainTx(i));
      ASSERT_TRUE(h.ok()) << h.status().ToString();
      committed[i] = *h;
    }
  }
  for (int round = 0; round < 2; round++) {
    auto s = MustOpen(d.path());
    for (int pass = 0; pass < 3; pass++) {
      for (int i : {5, 69, 133, 197, 5, 133, 69, 197, 1, n, 1, n}) {
        auto h = s->ReadTxHeader(i);
        ASSERT_TRUE(h.ok()) << h.status().ToString();
        ASSERT_EQ(*h, committed[i]) << i;
      }
      for (int i = n; i >= 1; i -= 7) ASSERT_EQ(*s->ReadTxHeader(i), committed[i]) << i;
    }
    EXPECT_TRUE(s->ReadTxHeader(n + 1).status().IsNotFound());
    EXPECT_TRUE(s->ReadTxHeader(n + 65).status().IsNotFound());
  }
}

// BuildDualProof takes the linear proof's terms and the target's BlTx Alh from
// a target header that is the committed one; a header that is not (any field
// changed) gets them from the logs, as a genuine one would, so its proof
// does not verify against the altered header. Both before and after a reopen
// (the last tx's Alh in memory, then from the commit log).
TEST(StoreTest, DualProofTermsOfAnAlteredTargetHeaderComeFromTheLogs) {
  TempDir d;
  const int n = 30;
  for (int round = 0; round < 2; round++) {
    auto s = MustOpen(d.path());
    if (round == 0) {
      for (int i = 1; i <= n; i++) ASSERT_TRUE(s->Commit(ChainTx(i)).ok());
    }
    std::vector<TxHeader> hs(n + 1);
    for (int i = 1; i <= n; i++) hs[i] = *s->ReadTxHeader(i);
    for (auto [a, b] : {std::pair{5, 20}, {5, n}, {19, 20}, {20, 20}, {n, n}, {1, 2}}) {
      SCOPED_TRACE(std::to_string(a) + "," + std::to_string(b));
      auto genuine = s->BuildDualProof(hs[a], hs[b]);
      ASSERT_TRUE(genuine.ok()) << genuine.status().ToString();
      EXPECT_TRUE(verify::VerifyDualProof(*genuine, a, b, *hs[a].Alh(), *hs[b].Alh()));
      TxHeader altered = hs[b];
      altered.ts += 1;
      auto p = s->BuildDualProof(hs[a], altered);
      ASSERT_TRUE(p.ok()) << p.status().ToString();
      EXPECT_EQ(p->linear_proof.source_tx_id, genuine->linear_proof.source_tx_id);
      EXPECT_EQ(p->linear_proof.target_tx_id, genuine->linear_proof.target_tx_id);
      EXPECT_EQ(p->linear_proof.terms, genuine->linear_proof.terms);
      EXPECT_EQ(p->target_bl_tx_alh, genuine->target_bl_tx_alh);
      EXPECT_EQ(p->inclusion_proof, genuine->inclusion_proof);
      EXPECT_EQ(p->consistency_proof, genuine->consistency_proof);
      EXPECT_FALSE(verify::VerifyDualProof(*p, a, b, *hs[a].Alh(), *altered.Alh()));
    }
    ASSERT_TRUE(s->Close().ok());
  }
}

TEST(StoreTest, ReopenKeepsChainAndContinues) {
  TempDir d;
  Hash alh3;
  {
    auto s = MustOpen(d.path());
    for (int i = 1; i <= 3; i++) ASSERT_TRUE(s->Commit(ChainTx(i)).ok());
    alh3 = s->CurrentState().alh;
    ASSERT_TRUE(s->Close().ok());
  }
  auto s = MustOpen(d.path());
  EXPECT_EQ(s->CurrentState().tx_id, 3u);
  EXPECT_EQ(s->CurrentState().alh, alh3);
  auto h = s->Commit(ChainTx(4));
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->id, 4u);
  EXPECT_EQ(h->prev_alh, alh3);
  auto h3 = s->ReadTxHeader(3);
  auto p = s->BuildDualProof(*h3, *h);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(verify::VerifyDualProof(*p, 3, 4, alh3, *h->Alh()));
}

TEST(StoreTest, WaitForTxWakesOnCommitAndTimesOut) {
  TempDir d;
  auto s = MustOpen(d.path());
  EXPECT_TRUE(s->WaitForTx(0, 0).ok());
  EXPECT_EQ(s->WaitForTx(1, 10).code(), StatusCode::kDeadlineExceeded);
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ASSERT_TRUE(s->Commit({Kv("a", "b")}).ok());
  });
  EXPECT_TRUE(s->WaitForTx(1, 10000).ok());
  t.join();
  std::thread c([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ASSERT_TRUE(s->Close().ok());
  });
  EXPECT_EQ(s->WaitForTx(5, 10000).code(), StatusCode::kFailedPrecondition);
  c.join();
}

TEST(StoreTest, SecondOpenOfSameDirectoryIsRefused) {
  TempDir d;
  auto s = MustOpen(d.path());
  EXPECT_FALSE(Store::Open(d.path(), {}).ok());
}

// The txs of `by_id` (tx id -> key), read in id order, form one chain from
// the first tx, and each holds its key with the value "v" + key. `last`, when
// given, receives the Alh of the last one.
void CheckChainedKeys(Store* s, const std::map<uint64_t, std::string>& by_id,
                      Hash* last = nullptr) {
  Hash prev = EmptyHash();
  for (auto& [id, k] : by_id) {
    auto tx = s->ReadTx(id);
    ASSERT_TRUE(tx.ok()) << tx.status().ToString();
    ASSERT_EQ(tx->header.prev_alh, prev) << id;
    ASSERT_EQ(tx->entries[0].key, k);
    ASSERT_EQ(*s->ReadValue(tx->entries[0]), "v" + k);
    prev = *tx->header.Alh();
  }
  if (last != nullptr) *last = prev;
}

// Batch limits 1 and 3 make leaders commit batches they are not in and hand
// leadership over constantly; 4096 lets one batch take every writer.
// `threads` writers commit `per` 1-entry txs each: every commit returns its
// own tx, each id once, and the txs read back in one chain with their values.
void CommitConcurrentlyAndCheckChain(Store* s, int threads, int per) {
  std::vector<std::thread> ts;
  std::mutex mu;
  std::map<uint64_t, std::string> by_id;
  for (int t = 0; t < threads; t++) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < per; i++) {
        std::string k = "t" + std::to_string(t) + "_" + std::to_string(i);
        auto h = s->Commit({Kv(k, "v" + k)});
        ASSERT_TRUE(h.ok()) << h.status().ToString();
        std::lock_guard<std::mutex> g(mu);
        EXPECT_TRUE(by_id.emplace(h->id, k).second);
      }
    });
  }
  for (auto& t : ts) t.join();
  ASSERT_EQ(by_id.size(), static_cast<size_t>(threads * per));
  EXPECT_EQ(s->CurrentState().tx_id, static_cast<uint64_t>(threads * per));
  CheckChainedKeys(s, by_id);
}

// (batch limit, synced, committers append)
class ConcurrentCommitTest : public ::testing::TestWithParam<std::tuple<size_t, bool, bool>> {};

TEST_P(ConcurrentCommitTest, WritersGetDistinctChainedTransactions) {
  TempDir d;
  StoreOptions o;
  o.max_group_commit_txs = std::get<0>(GetParam());
  o.synced = std::get<1>(GetParam());
  o.committers_append = std::get<2>(GetParam());
  auto s = MustOpen(d.path(), o);
  CommitConcurrentlyAndCheckChain(s.get(), 48, 40);
}

INSTANTIATE_TEST_SUITE_P(BatchLimits, ConcurrentCommitTest,
                         ::testing::Combine(::testing::Values(1, 3, 4096), ::testing::Bool(),
                                            ::testing::Bool()));

// A file that passes every call to the file it wraps; the test file systems
// below change only its Sync.
class ForwardingFile : public File {
 public:
  explicit ForwardingFile(std::unique_ptr<File> f) : f_(std::move(f)) {}
  Status Append(std::string_view data) override { return f_->Append(data); }
  Status ReadAt(uint64_t offset, size_t n, char* dst, size_t* read) const override {
    return f_->ReadAt(offset, n, dst, read);
  }
  Status Sync() override { return f_->Sync(); }
  Status Truncate(uint64_t size) override { return f_->Truncate(size); }
  uint64_t Size() const override { return f_->Size(); }
  Status Close() override { return f_->Close(); }

 private:
  std::unique_ptr<File> f_;
};

// Every fsync takes `delay`: with many synced writers, a leader then finds
// both batch slots taken and parks the leadership for the publisher of the
// oldest batch to take.
class SlowSyncFs : public FileSystemWrapper {
 public:
  SlowSyncFs(FileSystem* target, std::chrono::microseconds delay)
      : FileSystemWrapper(target), delay_(delay) {}

  Result<std::unique_ptr<File>> OpenFile(const std::string& path, bool create) override {
    IMMUDB_ASSIGN_OR_RETURN(std::unique_ptr<File> f, target()->OpenFile(path, create));
    return std::unique_ptr<File>(new SlowFile(std::move(f), delay_));
  }

 private:
  class SlowFile : public ForwardingFile {
   public:
    SlowFile(std::unique_ptr<File> f, std::chrono::microseconds delay)
        : ForwardingFile(std::move(f)), delay_(delay) {}
    Status Sync() override {
      std::this_thread::sleep_for(delay_);
      return ForwardingFile::Sync();
    }

   private:
    std::chrono::microseconds delay_;
  };

  std::chrono::microseconds delay_;
};

// Synced writers whose fsyncs are slow: the leadership goes through parked
// leaders and the threads that publish (Stats().publisher_leads), and still
// every commit returns its own tx, each once, in one chain; with batches of
// 3 the batch limit leaves writers queued behind every batch. Whether a
// publisher finds a parked leadership depends on the threads' timing, so a
// configuration runs again (each run checked in full) until one did.
TEST(StoreTest, ParkedLeadershipTakenByPublishersCommitsEveryTxOnce) {
  for (size_t batch_limit : {size_t{3}, size_t{4096}}) {
    uint64_t publisher_leads = 0;
    for (int attempt = 0; attempt < 8 && publisher_leads == 0; attempt++) {
      auto mem = NewMemFileSystem();
      SlowSyncFs fs(mem.get(), std::chrono::microseconds(300));
      StoreOptions o;
      o.fs = &fs;
      o.committers_append = false;  // The leader pipeline.
      o.max_group_commit_txs = batch_limit;
      auto st = Store::Open("/db", o);
      ASSERT_TRUE(st.ok()) << st.status().ToString();
      std::unique_ptr<Store> s = std::move(st).value();
      // Publishers lead only with 32 or more queued.
      CommitConcurrentlyAndCheckChain(s.get(), 64, 20);
      publisher_leads = s->Stats().publisher_leads;
      ASSERT_TRUE(s->Close().ok());
    }
    EXPECT_GT(publisher_leads, 0u) << batch_limit;
  }
}

// Synced committers that append their own txs while slow fsyncs run, mixed
// with CommitAsync from one more thread: every commit lands once, in one
// chain; rounds group many txs each; Close waits for every callback.
TEST(StoreTest, AppendingCommittersShareRoundsWithAsyncCommits) {
  auto mem = NewMemFileSystem();
  SlowSyncFs fs(mem.get(), std::chrono::microseconds(300));
  StoreOptions o;
  o.fs = &fs;
  auto st = Store::Open("/db", o);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  std::unique_ptr<Store> s = std::move(st).value();
  constexpr int kAsync = 400;
  std::atomic<int> async_ok{0};
  std::mutex mu;
  std::map<uint64_t, std::string> by_id;  // Blocking and async commits alike.
  std::thread async([&] {
    for (int i = 0; i < kAsync; i++) {
      const std::string k = "a" + std::to_string(i);
      s->CommitAsync({Kv(k, "v" + k)}, [&, k](Result<TxHeader> h) {
        ASSERT_TRUE(h.ok()) << h.status().ToString();
        std::lock_guard<std::mutex> g(mu);
        EXPECT_TRUE(by_id.emplace(h->id, k).second);
        async_ok++;
      });
    }
  });
  std::vector<std::thread> ts;
  for (int t = 0; t < 32; t++) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < 25; i++) {
        const std::string k = "t" + std::to_string(t) + "_" + std::to_string(i);
        auto h = s->Commit({Kv(k, "v" + k)});
        ASSERT_TRUE(h.ok()) << h.status().ToString();
        std::lock_guard<std::mutex> g(mu);
        EXPECT_TRUE(by_id.emplace(h->id, k).second);
      }
    });
  }
  for (auto& t : ts) t.join();
  async.join();
  ASSERT_TRUE(s->Close().ok());
  EXPECT_EQ(async_ok.load(), kAsync);
  const uint64_t total = 32 * 25 + kAsync;
  EXPECT_EQ(by_id.size(), total);
  const Store::CommitStats stats = s->Stats();
  EXPECT_EQ(stats.txs, total);
  EXPECT_LT(stats.batches, total / 4) << "rounds did not group txs";

  st = Store::Open("/db", o);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  s = std::move(st).value();
  EXPECT_EQ(s->CurrentState().tx_id, total);
  CheckChainedKeys(s.get(), by_id);
}

// Two writers of an unsynced store, where the waiting one spins for its
// commit or for the leadership instead of sleeping: every commit lands once,
// in one chain, and reads back; with batches of one tx the leadership passes
// between the writers all the time.
TEST(StoreTest, TwoUnsyncedWritersCommitEveryTxOnceInOneChain) {
  for (uint32_t batch_limit : {1u, 4096u}) {
    TempDir d;
    StoreOptions o;
    o.synced = false;
    o.max_group_commit_txs = batch_limit;
    auto s = MustOpen(d.path(), o);
    constexpr int kPer = 3000;
    std::mutex mu;
    std::map<uint64_t, std::string> by_id;
    std::vector<std::thread> ts;
    for (int t = 0; t < 2; t++) {
      ts.emplace_back([&, t] {
        for (int i = 0; i < kPer; i++) {
          std::string k = "w" + std::to_string(t) + "_" + std::to_string(i);
          auto h = s->Commit({Kv(k, "v" + k)});
          ASSERT_TRUE(h.ok()) << h.status().ToString();
          std::lock_guard<std::mutex> g(mu);
          EXPECT_TRUE(by_id.emplace(h->id, k).second);
        }
      });
    }
    for (auto& t : ts) t.join();
    ASSERT_EQ(by_id.size(), size_t{2 * kPer});
    EXPECT_EQ(by_id.begin()->first, 1u);
    EXPECT_EQ(s->CurrentState().tx_id, uint64_t{2 * kPer});
    Hash last;
    ASSERT_NO_FATAL_FAILURE(CheckChainedKeys(s.get(), by_id, &last));
    EXPECT_EQ(s->CurrentState().alh, last);
  }
}

uint64_t FileSize(const std::string& p) { return std::filesystem::file_size(p); }

void AppendBytes(const std::string& p, const std::string& bytes) {
  std::ofstream f(p, std::ios::binary | std::ios::app);
  f << bytes;
}

void FlipByte(const std::string& p, uint64_t off) {
  ASSERT_TRUE(testutil::FlipByte(p, off)) << p << " offset " << off;
}

using testutil::ReadAll;
using testutil::WriteAll;

TEST(StoreTest, TornTailsAreCutOnOpen) {
  TempDir d;
  {
    auto s = MustOpen(d.path());
    for (int i = 1; i <= 5; i++) ASSERT_TRUE(s->Commit(ChainTx(i)).ok());
  }
  // A partial commit record, garbage after the last tx record and values.
  AppendBytes(d.path() + "/commit/00000000.clog", std::string(30, '\x07'));
  AppendBytes(d.path() + "/tx/00000000.tx", std::string(100, '\x01'));
  AppendBytes(d.path() + "/val/00000000.val", std::string(10, '\x02'));
  const uint64_t clog = FileSize(d.path() + "/commit/00000000.clog");
  {
    auto s = MustOpen(d.path());
    EXPECT_EQ(s->CurrentState().tx_id, 5u);
    ASSERT_TRUE(s->Commit(ChainTx(6)).ok());
    for (uint64_t i = 1; i <= 6; i++) EXPECT_TRUE(s->ReadTx(i).ok()) << i;
  }
  EXPECT_EQ(FileSize(d.path() + "/commit/00000000.clog"), clog - 30 + store::kCommitRecordSize);
}

TEST(StoreTest, UnreadableAhtIsRebuiltFromTheCommitLog) {
  TempDir d;
  Hash alh;
  {
    auto s = MustOpen(d.path());
    for (int i = 1; i <= 20; i++) ASSERT_TRUE(s->Commit(ChainTx(i)).ok());
    alh = s->CurrentState().alh;
    EXPECT_TRUE(s->RecoveryNotes().empty());
  }
  // Garbage over the whole AHT file: more than any torn write could leave.
  const std::string aht = d.path() + "/aht/00000000.aht";
  const uint64_t size = FileSize(aht);
  for (uint64_t off = 0; off < size; off += 7) FlipByte(aht, off);
  auto s = MustOpen(d.path());
  ASSERT_EQ(s->RecoveryNotes().size(), 1u);
  EXPECT_NE(s->RecoveryNotes()[0].find("rebuilt"), std::string::npos);
  EXPECT_EQ(s->CurrentState().alh, alh);
  auto h5 = s->ReadTxHeader(5);
  auto h20 = s->ReadTxHeader(20);
  auto p = s->BuildDualProof(*h5, *h20);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_TRUE(verify::VerifyDualProof(*p, 5, 20, *h5->Alh(), alh));
  ASSERT_TRUE(s->Commit(ChainTx(21)).ok());
}

// A 24576-tx store written with small batches, so the AHT's torn window
// (kAhtLazyBytes, one batch and a write buffer: about 2 MiB) ends megabytes
// after the start of the AHT.
StoreOptions SmallBatchOptions() {
  StoreOptions o;
  o.max_group_commit_txs = 16;
  return o;
}

Hash FillUnsynced(const std::string& dir, int n) {
  StoreOptions o = SmallBatchOptions();
  o.synced = false;
  auto s = MustOpen(dir, o);
  for (int i = 1; i <= n; i++) {
    EXPECT_TRUE(s->Commit({Kv("k" + std::to_string(i), "v")}).ok());
  }
  return s->CurrentState().alh;
}

// Records the threads that sync files of the AHT.
class AhtSyncSpy : public FileSystemWrapper {
 public:
  using FileSystemWrapper::FileSystemWrapper;

  Result<std::unique_ptr<File>> OpenFile(const std::string& path, bool create) override {
    IMMUDB_ASSIGN_OR_RETURN(std::unique_ptr<File> f, target()->OpenFile(path, create));
    if (path.find("/aht/") == std::string::npos) return f;
    return std::unique_ptr<File>(new SpyFile(std::move(f), this));
  }

  // From now on every sync of an AHT file fails (EIO).
  void FailSyncs() { fail_.store(true); }

  // AHT file syncs run on `thread`, and on every other thread.
  std::pair<int, int> Syncs(std::thread::id thread) {
    std::lock_guard<std::mutex> l(mu_);
    int on = 0, off = 0;
    for (const std::thread::id& t : syncs_) (t == thread ? on : off)++;
    return {on, off};
  }

 private:
  class SpyFile : public ForwardingFile {
   public:
    SpyFile(std::unique_ptr<File> f, AhtSyncSpy* spy) : ForwardingFile(std::move(f)), spy_(spy) {}
    Status Sync() override {
      {
        std::lock_guard<std::mutex> l(spy_->mu_);
        spy_->syncs_.push_back(std::this_thread::get_id());
      }
      if (spy_->fail_.load()) return Status::IOError("injected AHT sync failure");
      return ForwardingFile::Sync();
    }

   private:
    AhtSyncSpy* spy_;
  };

  std::mutex mu_;
  std::vector<std::thread::id> syncs_;
  std::atomic<bool> fail_{false};
};

// Waits (at most `timeout`) until no other thread of this process is running
// or waiting for a CPU (state R or D in /proc/self/task/<tid>/stat): a thread
// a commit woke (the background syncer) has done its work and sleeps again.
void WaitUntilOtherThreadsSleep(std::chrono::milliseconds timeout) {
  const std::string self = std::to_string(gettid());
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    bool busy = false;
    std::error_code ec;
    for (const auto& t : std::filesystem::directory_iterator("/proc/self/task", ec)) {
      if (t.path().filename() == self) continue;
      const std::string stat = testutil::ReadAll(t.path().string() + "/stat");
      const size_t p = stat.rfind(')');  // "<tid> (<name>) <state> ..."
      if (p != std::string::npos && p + 2 < stat.size()) {
        busy |= stat[p + 2] == 'R' || stat[p + 2] == 'D';
      }
    }
    if (!busy || std::chrono::steady_clock::now() >= deadline) return;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

// A writer's commit (the leader's write step) never waits for the AHT's
// fsync: the background syncer runs them (once half of kAhtLazyBytes is
// unsynced), in synced mode and in unsynced mode (there with the data logs
// never synced), and the store reopens whole.
void CheckCommitsLeaveAhtSyncsToTheBackgroundSyncer(bool synced) {
  auto mem = NewMemFileSystem();
  AhtSyncSpy spy(mem.get());
  StoreOptions o;
  o.fs = &spy;
  o.synced = synced;
  if (!synced) o.unsynced_sync_interval_ms = 0;  // Never sync the data logs.
  const int n = 20000;                           // About 5 MiB of AHT records.
  Hash alh;
  {
    auto s = Store::Open("/db", o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    for (int i = 1; i <= n; i++) {
      ASSERT_TRUE((*s)->Commit({Kv("k" + std::to_string(i), "v")}).ok());
      // Let the syncer keep up: the leader syncs itself (by design) when the
      // syncer falls a whole kAhtLazyBytes behind, as it does on a busy
      // machine that leaves the syncer's thread waiting for a CPU. About
      // 128 KiB of AHT records (some 260 bytes a tx) are written between
      // these waits; the syncer is asked every 512 KiB.
      if (i % 500 == 0) WaitUntilOtherThreadsSleep(std::chrono::seconds(10));
    }
    const auto [on, off] = spy.Syncs(std::this_thread::get_id());
    EXPECT_EQ(on, 0);
    EXPECT_GE(off, 4);
    alh = (*s)->CurrentState().alh;
    ASSERT_TRUE((*s)->Close().ok());
  }
  auto s = Store::Open("/db", o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ((*s)->CurrentState().tx_id, static_cast<uint64_t>(n));
  EXPECT_EQ((*s)->CurrentState().alh, alh);
  auto h1 = (*s)->ReadTxHeader(1);
  auto hn = (*s)->ReadTxHeader(n);
  ASSERT_TRUE(h1.ok() && hn.ok());
  auto p = (*s)->BuildDualProof(*h1, *hn);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_TRUE(verify::VerifyDualProof(*p, 1, n, *h1->Alh(), alh));
}

TEST(StoreTest, UnsyncedCommitsLeaveAhtSyncsToTheBackgroundSyncer) {
  CheckCommitsLeaveAhtSyncsToTheBackgroundSyncer(false);
}

TEST(StoreTest, SyncedCommitsLeaveAhtSyncsToTheBackgroundSyncer) {
  CheckCommitsLeaveAhtSyncsToTheBackgroundSyncer(true);
}

// A failed fsync of the AHT in the background syncer puts a synced store in
// the error state: the commits after it fail, and none is retried.
TEST(StoreTest, FailedBackgroundAhtSyncFailsLaterSyncedCommits) {
  auto mem = NewMemFileSystem();
  AhtSyncSpy spy(mem.get());
  StoreOptions o;
  o.fs = &spy;
  auto s = Store::Open("/db", o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_TRUE((*s)->Commit({Kv("k0", "v")}).ok());
  spy.FailSyncs();
  int failed_at = 0;
  for (int i = 1; i <= 20000 && failed_at == 0; i++) {
    Result<TxHeader> r = (*s)->Commit({Kv("k" + std::to_string(i), "v")});
    if (!r.ok()) {
      EXPECT_TRUE(r.status().IsIOError()) << r.status().ToString();
      failed_at = i;
    }
    if (i % 500 == 0) WaitUntilOtherThreadsSleep(std::chrono::seconds(10));
  }
  ASSERT_GT(failed_at, 0) << "no commit failed after the AHT's syncs began to fail";
  EXPECT_EQ(spy.Syncs(std::this_thread::get_id()).first, 0);
  const uint64_t last = (*s)->CurrentState().tx_id;
  EXPECT_FALSE((*s)->Commit({Kv("after", "v")}).ok());
  EXPECT_EQ((*s)->CurrentState().tx_id, last);
}

// Leaf 16384 closes the largest perfect block of a 24576-leaf AHT: its record
// is read on open (the frontier) and lies before the torn window, so damage
// there cannot be a torn write. The store rebuilds the AHT instead of failing.
TEST(StoreTest, AhtDamagedBeyondATornWriteIsRebuilt) {
  TempDir d;
  const int n = 24576;
  const Hash alh = FillUnsynced(d.path(), n);
  uint64_t off = 0;  // Offset of leaf 16384's record: the sum of the earlier records' sizes.
  for (uint64_t m = 1; m < 16384; m++) off += (std::popcount(m - 1) + 1) * 32 + 4;
  FlipByte(d.path() + "/aht/00000000.aht", off + 40);
  auto s = MustOpen(d.path(), SmallBatchOptions());
  ASSERT_FALSE(s->RecoveryNotes().empty());
  EXPECT_NE(s->RecoveryNotes()[0].find("AHT unreadable"), std::string::npos)
      << s->RecoveryNotes()[0];
  auto h1 = s->ReadTxHeader(1);
  auto hn = s->ReadTxHeader(n);
  auto p = s->BuildDualProof(*h1, *hn);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_TRUE(verify::VerifyDualProof(*p, 1, n, *h1->Alh(), alh));
}

// Damage to an AHT record before the torn window that open does not read is
// found when a proof needs it: Corruption, never a proof built from it.
TEST(StoreTest, DamagedAhtRecordFailsTheProofsThatNeedIt) {
  TempDir d;
  const int n = 24576;
  FillUnsynced(d.path(), n);
  FlipByte(d.path() + "/aht/00000000.aht", 40);  // Leaf 2's record.
  auto s = MustOpen(d.path(), SmallBatchOptions());
  EXPECT_TRUE(s->RecoveryNotes().empty());
  auto h1 = s->ReadTxHeader(1);
  auto hn = s->ReadTxHeader(n);
  EXPECT_TRUE(s->BuildDualProof(*h1, *hn).status().IsCorruption());
}

// The AHT is synced lazily: damage inside its torn window is cut on open and
// the lost leaves are appended again from the commit log.
TEST(StoreTest, DamagedAhtTailIsRebuiltOnOpen) {
  TempDir d;
  Hash alh;
  {
    auto s = MustOpen(d.path());
    for (int i = 1; i <= 40; i++) ASSERT_TRUE(s->Commit(ChainTx(i)).ok());
    alh = s->CurrentState().alh;
  }
  FlipByte(d.path() + "/aht/00000000.aht", 40);  // Leaf 2's record.
  auto s = MustOpen(d.path());
  ASSERT_EQ(s->RecoveryNotes().size(), 1u);
  EXPECT_NE(s->RecoveryNotes()[0].find("rebuilt"), std::string::npos) << s->RecoveryNotes()[0];
  auto h1 = s->ReadTxHeader(1);
  auto h40 = s->ReadTxHeader(40);
  auto p = s->BuildDualProof(*h1, *h40);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_TRUE(verify::VerifyDualProof(*p, 1, 40, *h1->Alh(), alh));
}

// Format 3: the commit log is derived from the tx log, so a damaged last
// commit record is cut and written again from the tx log.
TEST(StoreTest, DamagedLastCommitRecordIsRederivedFromTheTxLog) {
  TempDir d;
  Hash alh;
  {
    auto s = MustOpen(d.path());
    for (int i = 1; i <= 5; i++) ASSERT_TRUE(s->Commit(ChainTx(i)).ok());
    alh = s->CurrentState().alh;
  }
  const std::string clog = d.path() + "/commit/00000000.clog";
  const std::string before = ReadAll(clog);
  FlipByte(clog, 4 * store::kCommitRecordSize + 40);
  {
    auto s = MustOpen(d.path());
    EXPECT_EQ(s->CurrentState().tx_id, 5u);
    EXPECT_EQ(s->CurrentState().alh, alh);
    ASSERT_EQ(s->RecoveryNotes().size(), 2u);
    EXPECT_NE(s->RecoveryNotes()[0].find("torn tail of 1"), std::string::npos);
    EXPECT_NE(s->RecoveryNotes()[1].find("recovered 1 tx(s) 5..5"), std::string::npos);
    EXPECT_TRUE(s->ReadTx(5).ok());
  }
  EXPECT_EQ(ReadAll(clog), before);
}

// A crash can lose commit records the tx log made durable (format 3 syncs
// the commit log lazily): every acknowledged tx comes back from the tx log.
TEST(StoreTest, LostCommitRecordsAreRederivedFromTheTxLog) {
  TempDir d;
  Hash alh;
  std::string clog_full;
  const std::string clog = d.path() + "/commit/00000000.clog";
  {
    auto s = MustOpen(d.path());
    for (int i = 1; i <= 30; i++) ASSERT_TRUE(s->Commit(ChainTx(i)).ok());
    alh = s->CurrentState().alh;
  }
  clog_full = ReadAll(clog);
  std::filesystem::remove(d.path() + "/" + store::kDurableFile);
  // The commit log as a crash may leave it: 10 records and half of one.
  WriteAll(clog, clog_full.substr(0, 10 * store::kCommitRecordSize + 30));
  auto s = MustOpen(d.path());
  EXPECT_EQ(s->CurrentState().tx_id, 30u);
  EXPECT_EQ(s->CurrentState().alh, alh);
  EXPECT_EQ(ReadAll(clog), clog_full);
  for (uint64_t id = 1; id <= 30; id++) EXPECT_TRUE(s->ReadTx(id).ok()) << id;
  ASSERT_TRUE(s->Commit(ChainTx(31)).ok());
}

// A crash image of a format 3 store on the real file system: the tx log
// ends in zeros written ahead of its data and the commit log lags. Opening
// recovers every tx and cuts the zeros.
TEST(StoreTest, CrashImageWithZerosAheadRecoversEveryTx) {
  TempDir d;
  const std::string live = d.Sub("live");
  const std::string image = d.Sub("image");
  auto s = MustOpen(live);
  for (int i = 1; i <= 200; i++) ASSERT_TRUE(s->Commit(ChainTx(i)).ok());
  const Hash alh = s->CurrentState().alh;
  // Everything acknowledged is in the files (synced); copy them as a crash
  // would leave them, without closing.
  std::filesystem::copy(live, image, std::filesystem::copy_options::recursive);
  std::filesystem::remove(image + "/LOCK");
  const uint64_t tx_size = FileSize(image + "/tx/00000000.tx");
  {
    store::VerifyDirOptions vo;
    auto r = store::VerifyStoreDir(image, vo);
    ASSERT_TRUE(r.ok());
    // The commit log and the AHT are written lazily, so the image may lack
    // their last records: the verifier calls that a possible torn tail.
    if (!r->ok()) {
      EXPECT_TRUE(r->mismatch->maybe_torn_tail) << r->mismatch->ToString();
    }
  }
  auto t = MustOpen(image);
  EXPECT_EQ(t->CurrentState().tx_id, 200u);
  EXPECT_EQ(t->CurrentState().alh, alh);
  EXPECT_LT(FileSize(image + "/tx/00000000.tx"), tx_size);
  for (uint64_t id = 1; id <= 200; id++) ASSERT_TRUE(t->ReadTx(id).ok()) << id;
  ASSERT_TRUE(t->Commit(ChainTx(201)).ok());
  ASSERT_TRUE(t->Close().ok());
  auto r = store::VerifyStoreDir(image, {});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok()) << r->mismatch->ToString();
  EXPECT_EQ(r->tx_count, 201u);
}

// A clean close leaves a durable mark: damage to the last tx afterwards is
// Corruption, never cut as if it were a torn tail.
TEST(StoreTest, DamageAfterACleanCloseIsNeverCut) {
  TempDir d;
  {
    auto s = MustOpen(d.path());
    for (int i = 1; i <= 5; i++) ASSERT_TRUE(s->Commit(ChainTx(i)).ok());
  }
  const std::string tx = d.path() + "/tx/00000000.tx";
  const uint64_t size = FileSize(tx);
  FlipByte(tx, size - 3);  // Inside the last tx record.
  {
    auto s = MustOpen(d.path());
    EXPECT_EQ(s->CurrentState().tx_id, 5u);
    EXPECT_TRUE(s->ReadTx(5).status().IsCorruption());
    EXPECT_TRUE(s->ReadTx(4).ok());
  }
  EXPECT_EQ(FileSize(tx), size);
  // Without the mark the same damage is a torn tail of the tx log.
  std::filesystem::remove(d.path() + "/" + store::kDurableFile);
  auto s = MustOpen(d.path());
  EXPECT_EQ(s->CurrentState().tx_id, 4u);
  EXPECT_LT(FileSize(tx), size);
}

// A durable mark that names a tx the logs no longer hold is Corruption: an
// acknowledged tx is never dropped silently.
TEST(StoreTest, DurableTxMissingAfterACleanCloseIsCorruption) {
  TempDir d;
  {
    auto s = MustOpen(d.path());
    for (int i = 1; i <= 5; i++) ASSERT_TRUE(s->Commit(ChainTx(i)).ok());
  }
  const std::string tx = d.path() + "/tx/00000000.tx";
  const std::string clog = d.path() + "/commit/00000000.clog";
  const std::string all = ReadAll(clog);
  WriteAll(clog, all.substr(0, 4 * store::kCommitRecordSize));
  FlipByte(tx, FileSize(tx) - 3);  // Tx 5 cannot be read back from the tx log either.
  auto s = Store::Open(d.path(), {});
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.status().IsCorruption()) << s.status().ToString();
}

TEST(StoreTest, DamageBeforeTheTailIsCorruptionNeverValidData) {
  TempDir d;
  {
    auto s = MustOpen(d.path());
    for (int i = 1; i <= 5; i++) ASSERT_TRUE(s->Commit(ChainTx(i)).ok());
  }
  FlipByte(d.path() + "/commit/00000000.clog", 1 * store::kCommitRecordSize + 10);
  FlipByte(d.path() + "/tx/00000000.tx", 20);
  auto s = MustOpen(d.path());
  ASSERT_EQ(s->CurrentState().tx_id, 5u);
  EXPECT_TRUE(s->ReadTx(1).status().IsCorruption());
  EXPECT_TRUE(s->ReadTx(2).status().IsCorruption());
  // Tx 3 chains to the damaged commit record of tx 2, so it cannot be checked.
  EXPECT_TRUE(s->ReadTx(3).status().IsCorruption());
  EXPECT_TRUE(s->ReadTx(4).ok());
}

TEST(StoreTest, ChangedValueIsDetectedOnRead) {
  TempDir d;
  {
    auto s = MustOpen(d.path());
    ASSERT_TRUE(s->Commit({Kv("a", "hello")}).ok());
    ASSERT_TRUE(s->Commit({Kv("b", "world")}).ok());
  }
  // "hello", between its length frame and tx 1's record.
  FlipByte(d.path() + "/tx/00000000.tx", store::kTxValuesFrameSize + 1);
  auto s = MustOpen(d.path());
  auto tx = s->ReadTx(1);
  ASSERT_TRUE(tx.ok());
  EXPECT_TRUE(s->ReadValue(tx->entries[0]).status().IsCorruption());
}

TEST(StoreTest, ValuePastTheEndIsCorruptionEvenWhenTheOffsetWraps) {
  TempDir d;
  auto s = MustOpen(d.path());
  ASSERT_TRUE(s->Commit({Kv("a", "hello")}).ok());
  auto tx = s->ReadTx(1);
  ASSERT_TRUE(tx.ok());
  TxEntry e = tx->entries[0];
  e.voff = ~uint64_t{0} - 1;  // voff + vlen wraps around to a small number.
  EXPECT_TRUE(s->ReadValue(e).status().IsCorruption());
  e.voff = 0;
  e.vlen = 0xffffffffu;  // Checked before anything is allocated.
  EXPECT_TRUE(s->ReadValue(e).status().IsCorruption());
}

}  // namespace
}  // namespace immudb

namespace immudb {
namespace {

void ExpectSameTx(const Tx& got, const Tx& want) {
  EXPECT_EQ(got.header, want.header);
  ASSERT_EQ(got.entries.size(), want.entries.size()) << got.header.id;
  for (size_t e = 0; e < want.entries.size(); e++) {
    EXPECT_EQ(got.entries[e].key, want.entries[e].key);
    EXPECT_EQ(got.entries[e].hval, want.entries[e].hval);
    EXPECT_EQ(got.entries[e].voff, want.entries[e].voff);
    EXPECT_EQ(got.entries[e].vlen, want.entries[e].vlen);
    EXPECT_TRUE(got.entries[e].md == want.entries[e].md);
  }
}

// The txs a log follower gets are the committed ones, equal to ReadTx's,
// whether they come from memory (written by this process) or from the logs.
TEST(StoreTest, ReadTxsFollowingMatchesReadTx) {
  TempDir d;
  {
    auto s = MustOpen(d.path());
    for (int i = 1; i <= 40; i++) ASSERT_TRUE(s->Commit(ChainTx(i)).ok());
  }
  auto s = MustOpen(d.path());
  for (int i = 41; i <= 50; i++) ASSERT_TRUE(s->Commit(ChainTx(i)).ok());
  auto check = [&](uint64_t from, size_t max, uint64_t want_last) {
    std::vector<Tx> txs;
    ASSERT_TRUE(s->ReadTxsFollowing(from, max, &txs).ok());
    ASSERT_EQ(txs.size(), want_last >= from ? want_last - from + 1 : 0) << from << " " << max;
    for (size_t k = 0; k < txs.size(); k++) {
      auto want = s->ReadTx(from + k);
      ASSERT_TRUE(want.ok());
      ExpectSameTx(txs[k], *want);
    }
  };
  // The shared variant hands out the same txs.
  auto check_shared = [&](uint64_t from, size_t max) {
    std::vector<Tx> copies;
    std::vector<std::shared_ptr<const Tx>> shared;
    ASSERT_TRUE(s->ReadTxsFollowing(from, max, &copies).ok());
    ASSERT_TRUE(s->ReadTxsFollowingShared(from, max, &shared).ok());
    ASSERT_EQ(shared.size(), copies.size());
    for (size_t k = 0; k < shared.size(); k++) ExpectSameTx(*shared[k], copies[k]);
  };
  check_shared(1, 100);
  check_shared(38, 5);
  check_shared(41, 100);
  check_shared(51, 10);
  std::vector<std::shared_ptr<const Tx>> no_shared;
  EXPECT_FALSE(s->ReadTxsFollowingShared(0, 1, &no_shared).ok());
  check(1, 100, 50);   // From the logs (older than this process's commits).
  check(38, 5, 42);    // Across the boundary.
  check(41, 100, 50);  // From memory.
  check(45, 3, 47);
  check(51, 10, 0);  // Nothing past the last committed tx.
  std::vector<Tx> none;
  EXPECT_FALSE(s->ReadTxsFollowing(0, 1, &none).ok());
}

}  // namespace
}  // namespace immudb

namespace immudb {
namespace {

// A tx exported from one store and committed with its header into another
// gets the same Alh; one that does not chain, or whose entries or values do
// not match the header, is refused and writes nothing.
TEST(StoreTest, CommitExportedReproducesTheChain) {
  TempDir a_dir, b_dir;
  auto a = MustOpen(a_dir.path());
  auto b = MustOpen(b_dir.path());
  for (int i = 1; i <= 12; i++) {
    std::vector<EntrySpec> es = ChainTx(i);
    if (i % 4 == 0) es[0].md.deleted = true;  // Version 1.
    ASSERT_TRUE(a->Commit(es).ok());
  }
  auto exported = [&](uint64_t id, std::vector<EntrySpec>* es) {
    auto tx = a->ReadTx(id);
    EXPECT_TRUE(tx.ok());
    es->clear();
    for (const TxEntry& e : tx->entries) {
      auto v = a->ReadValue(e);
      EXPECT_TRUE(v.ok());
      es->push_back({e.key, *v, e.md});
    }
    return tx->header;
  };
  std::vector<EntrySpec> es;
  // Out of order: tx 2 before tx 1.
  TxHeader h2 = exported(2, &es);
  EXPECT_EQ(b->CommitExported(h2, es).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(b->CurrentState().tx_id, 0u);
  for (uint64_t id = 1; id <= 12; id++) {
    TxHeader h = exported(id, &es);
    // A changed value, a changed key, a missing entry: refused.
    std::vector<EntrySpec> bad = es;
    bad[0].value += "x";
    EXPECT_EQ(b->CommitExported(h, bad).status().code(), StatusCode::kInvalidArgument);
    bad = es;
    bad[0].key += "x";
    EXPECT_EQ(b->CommitExported(h, bad).status().code(), StatusCode::kInvalidArgument);
    TxHeader later = h;
    later.ts = 1;  // Before the last tx's timestamp (the Alh check comes later).
    if (id > 1) {
      EXPECT_EQ(b->CommitExported(later, es).status().code(), StatusCode::kFailedPrecondition);
    }
    auto got = b->CommitExported(h, es);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, h);
    EXPECT_EQ(b->CurrentState().alh, *a->TxAlh(id));
  }
  // Already there: tx 12 again does not chain.
  TxHeader h12 = exported(12, &es);
  EXPECT_EQ(b->CommitExported(h12, es).status().code(), StatusCode::kFailedPrecondition);
  // Both stores go on and verify across the replicated part.
  ASSERT_TRUE(b->Commit(ChainTx(13)).ok());
  b.reset();
  b = MustOpen(b_dir.path());
  auto h1 = b->ReadTxHeader(1);
  auto h13 = b->ReadTxHeader(13);
  auto p = b->BuildDualProof(*h1, *h13);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(verify::VerifyDualProof(*p, 1, 13, *a->TxAlh(1), b->CurrentState().alh));
}

}  // namespace
}  // namespace immudb

namespace immudb {
namespace {

// Duplicate keys are refused whatever the tx size (small txs compare keys
// pairwise, larger ones use a set), and nothing is written.
TEST(StoreTest, DuplicateKeysAreRefusedInSmallAndLargeTxs) {
  TempDir d;
  auto s = MustOpen(d.path());
  for (size_t n : {2, 3, 8, 9, 20}) {
    for (size_t dup_at : {size_t{1}, n - 1}) {
      std::vector<EntrySpec> es;
      for (size_t i = 0; i < n; i++) es.push_back(Kv("key" + std::to_string(i), "v"));
      es[dup_at].key = es[dup_at - 1].key;
      EXPECT_TRUE(s->Commit(es).status().IsInvalidArgument()) << n << " " << dup_at;
      es[dup_at].key = "other";
      EXPECT_TRUE(s->Commit(es).ok()) << n << " " << dup_at;
    }
  }
  EXPECT_EQ(s->CurrentState().tx_id, 10u);
}

// The ring of recent txs wraps after 16384 txs: the txs read from it, of
// sizes that vary (so a slot's buffers are reused by txs of other shapes)
// and written by several threads (batches of several txs), still equal
// ReadTx's, up to the oldest it holds and from the logs before that.
TEST(StoreTest, ReadTxsFollowingAfterTheRecentRingWraps) {
  TempDir d;
  StoreOptions o;
  o.synced = false;
  auto s = MustOpen(d.path(), o);
  constexpr int kThreads = 4, kPerThread = 4500;  // 18000 txs in all.
  std::vector<std::thread> threads;
  std::atomic<bool> failed{false};
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; i++) {
        std::vector<EntrySpec> es;
        const int n = (i + t) % 6 + 1;
        for (int e = 0; e < n; e++) {
          // Keys of 5 to 40 bytes: some fit a string's own storage, some not.
          std::string key = "t" + std::to_string(t) + "_" + std::to_string(i) + "_" +
                            std::to_string(e) +
                            std::string(static_cast<size_t>((i * 7 + e) % 30), 'k');
          es.push_back(Kv(std::move(key), "value" + std::to_string(i)));
        }
        if (i % 5 == 0) es[0].md.deleted = true;
        if (!s->Commit(std::move(es)).ok()) failed = true;
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_FALSE(failed.load());
  const uint64_t last = s->CurrentState().tx_id;
  ASSERT_EQ(last, uint64_t{kThreads} * kPerThread);
  auto check = [&](uint64_t from, size_t max) {
    std::vector<Tx> txs;
    ASSERT_TRUE(s->ReadTxsFollowing(from, max, &txs).ok());
    ASSERT_FALSE(txs.empty()) << from;
    ASSERT_LE(txs.size(), max);
    for (size_t k = 0; k < txs.size(); k++) {
      auto want = s->ReadTx(from + k);
      ASSERT_TRUE(want.ok());
      ASSERT_EQ(txs[k].header.id, from + k);
      ExpectSameTx(txs[k], *want);
    }
  };
  const uint64_t oldest = last - 16384 + 1;  // The oldest tx in the ring.
  check(1, 50);                              // From the logs.
  check(oldest - 3, 10);                     // From the logs, before the ring.
  check(oldest, 20000);                      // The whole ring.
  check(last - 10, 100);                     // Its newest.
  std::vector<Tx> none;
  ASSERT_TRUE(s->ReadTxsFollowing(last + 1, 10, &none).ok());
  EXPECT_TRUE(none.empty());
}

// Large txs leave the ring of recent txs early: it holds at most 65,536
// entries (and always its newest tx), so 1000-entry txs do not keep 16,384
// txs' worth of entries in memory. Older txs are read from the logs, equal
// to what the ring held.
TEST(StoreTest, RecentRingOfLargeTxsIsBoundedByEntries) {
  TempDir d;
  StoreOptions o;
  o.synced = false;
  o.max_tx_entries = 70000;
  auto s = MustOpen(d.path(), o);
  constexpr int kTxs = 100, kEntries = 1000;
  for (int t = 0; t < kTxs; t++) {
    std::vector<EntrySpec> es;
    for (int e = 0; e < kEntries; e++) {
      es.push_back(Kv("k" + std::to_string(t) + "_" + std::to_string(e), "v"));
    }
    ASSERT_TRUE(s->Commit(std::move(es)).ok());
  }
  // The newest txs come shared from the ring (the ring holds a reference
  // too); the oldest are read from the logs (only the caller holds them).
  std::vector<std::shared_ptr<const Tx>> newest, oldest;
  ASSERT_TRUE(s->ReadTxsFollowingShared(kTxs - 9, 10, &newest).ok());
  ASSERT_EQ(newest.size(), 10u);
  for (const auto& tx : newest) EXPECT_GE(tx.use_count(), 2) << tx->header.id;
  ASSERT_TRUE(s->ReadTxsFollowingShared(1, 10, &oldest).ok());
  ASSERT_EQ(oldest.size(), 10u);
  for (const auto& tx : oldest) EXPECT_EQ(tx.use_count(), 1) << tx->header.id;
  // Every tx reads back the same either way, across the ring's first tx.
  for (uint64_t from : {uint64_t{1}, uint64_t{30}, uint64_t{36}, uint64_t{40}}) {
    std::vector<Tx> txs;
    ASSERT_TRUE(s->ReadTxsFollowing(from, 10, &txs).ok());
    ASSERT_EQ(txs.size(), 10u);
    for (size_t k = 0; k < txs.size(); k++) {
      auto want = s->ReadTx(from + k);
      ASSERT_TRUE(want.ok());
      ExpectSameTx(txs[k], *want);
    }
  }
  // A tx larger than the bound stays, alone, as the newest.
  std::vector<EntrySpec> big;
  for (int e = 0; e < 70000; e++) big.push_back(Kv("big" + std::to_string(e), "v"));
  auto h = s->Commit(std::move(big));
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  std::vector<std::shared_ptr<const Tx>> last;
  ASSERT_TRUE(s->ReadTxsFollowingShared(h->id, 1, &last).ok());
  ASSERT_EQ(last.size(), 1u);
  EXPECT_GE(last[0].use_count(), 2);
  std::vector<std::shared_ptr<const Tx>> before;
  ASSERT_TRUE(s->ReadTxsFollowingShared(h->id - 1, 1, &before).ok());
  ASSERT_EQ(before.size(), 1u);
  EXPECT_EQ(before[0].use_count(), 1);
}

// The txs after the follower's position (KeepRecentTxsAfter) stay in the
// ring past its usual 65,536 entries, up to 262,144; the ones it has read
// leave as before, and without a follower the usual bound is back.
TEST(StoreTest, RecentRingKeepsTheTxsAFollowerHasNotRead) {
  TempDir d;
  StoreOptions o;
  o.synced = false;
  o.max_tx_entries = 4000;
  auto s = MustOpen(d.path(), o);
  constexpr int kEntries = 4000;  // 16 txs fit 65,536 entries, 65 fit 262,144.
  auto commit = [&](int n) {
    for (int t = 0; t < n; t++) {
      std::vector<EntrySpec> es;
      const std::string tx = std::to_string(s->CurrentState().tx_id + 1);
      for (int e = 0; e < kEntries; e++) es.push_back(Kv("k" + tx + "_" + std::to_string(e), "v"));
      ASSERT_TRUE(s->Commit(std::move(es)).ok());
    }
  };
  // Whether tx `id` comes shared from the ring (which holds it too) rather
  // than read from the logs (only the caller holds it); either way equal to
  // ReadTx's.
  auto in_ring = [&](uint64_t id) {
    std::vector<std::shared_ptr<const Tx>> got;
    EXPECT_TRUE(s->ReadTxsFollowingShared(id, 1, &got).ok());
    EXPECT_EQ(got.size(), 1u);
    if (got.size() != 1) return false;
    ExpectSameTx(*got[0], *s->ReadTx(id));
    return got[0].use_count() >= 2;
  };
  s->KeepRecentTxsAfter(0);  // A follower that has read nothing.
  commit(40);
  if (HasFatalFailure()) return;
  for (uint64_t id = 1; id <= 40; id++) EXPECT_TRUE(in_ring(id)) << id;
  // It has read up to tx 10: the next commit lets go of txs 1..10 (down to
  // the usual bound, 16 txs, but never a tx it has not read).
  s->KeepRecentTxsAfter(10);
  commit(1);
  if (HasFatalFailure()) return;
  EXPECT_FALSE(in_ring(10));
  for (uint64_t id = 11; id <= 41; id++) EXPECT_TRUE(in_ring(id)) << id;
  // Past 262,144 entries the oldest go even if it has not read them.
  commit(39);
  if (HasFatalFailure()) return;
  EXPECT_FALSE(in_ring(80 - 65));
  for (uint64_t id = 80 - 64; id <= 80; id++) EXPECT_TRUE(in_ring(id)) << id;
  // No follower: the usual bound again.
  s->KeepRecentTxsAfter(UINT64_MAX);
  commit(1);
  if (HasFatalFailure()) return;
  EXPECT_FALSE(in_ring(81 - 16));
  for (uint64_t id = 81 - 15; id <= 81; id++) EXPECT_TRUE(in_ring(id)) << id;
}

// A tx shared out of the ring stays as committed while the ring wraps past
// it and its slot's later txs are built: the store builds those elsewhere.
TEST(StoreTest, SharedRecentTxsStayIntactAfterTheRingWraps) {
  TempDir d;
  StoreOptions o;
  o.synced = false;
  auto s = MustOpen(d.path(), o);
  auto commit = [&](int i) {
    std::vector<EntrySpec> es;
    for (int e = 0; e < i % 4 + 1; e++) {
      es.push_back(Kv("key" + std::to_string(i) + "_" + std::to_string(e) +
                          std::string(static_cast<size_t>(i % 40), 'k'),
                      "v" + std::to_string(i)));
    }
    ASSERT_TRUE(s->Commit(std::move(es)).ok());
  };
  for (int i = 1; i <= 100; i++) commit(i);
  std::vector<std::shared_ptr<const Tx>> held;
  ASSERT_TRUE(s->ReadTxsFollowingShared(1, 100, &held).ok());
  ASSERT_EQ(held.size(), 100u);
  std::vector<Tx> copies;
  for (const auto& tx : held) copies.push_back(*tx);
  // Past the 16384-tx ring: every held tx's slot is reused twice over.
  for (int i = 101; i <= 2 * 16384 + 200; i++) {
    commit(i);
    if (HasFatalFailure()) return;
  }
  for (size_t k = 0; k < held.size(); k++) {
    ASSERT_EQ(held[k].use_count(), 1) << k;  // The ring let go of it.
    ExpectSameTx(*held[k], copies[k]);
    auto want = s->ReadTx(k + 1);
    ASSERT_TRUE(want.ok());
    ExpectSameTx(*held[k], *want);
  }
  // The newest txs come shared from the ring again, equal to ReadTx's.
  const uint64_t last = s->CurrentState().tx_id;
  std::vector<std::shared_ptr<const Tx>> recent;
  ASSERT_TRUE(s->ReadTxsFollowingShared(last - 99, 200, &recent).ok());
  ASSERT_EQ(recent.size(), 100u);
  for (size_t k = 0; k < recent.size(); k++) ExpectSameTx(*recent[k], *s->ReadTx(last - 99 + k));
}

}  // namespace
}  // namespace immudb
