// Truncation of a store: values of old txs are discarded, headers, entries and
// proofs stay (docs/format/truncation.md).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "immudb/store.h"
#include "immudb/verify.h"
#include "store/export.h"
#include "store/log_format.h"
#include "store/verify_dir.h"
#include "testutil/fault_fs.h"
#include "testutil/test_util.h"

namespace immudb {
namespace {

using testutil::TempDir;
using namespace std::string_literals;

std::unique_ptr<Store> MustOpen(const std::string& dir, const StoreOptions& o = {}) {
  auto s = Store::Open(dir, o);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

// Tx i: one or two entries; every fifth tx carries a 64 KiB value.
std::vector<EntrySpec> TxOf(int i) {
  std::vector<EntrySpec> es;
  const std::string big(64 << 10, static_cast<char>('a' + i % 26));
  es.push_back(
      EntrySpec{"\0k"s + std::to_string(i), i % 5 == 0 ? big : "\0v"s + std::to_string(i), {}});
  if (i % 2 == 0)
    es.push_back(EntrySpec{"\0j"s + std::to_string(i), "\0w"s + std::to_string(i), {}});
  return es;
}

std::string ExpectedValue(int i, size_t e) {
  if (e == 1) return "\0w"s + std::to_string(i);
  if (i % 5 == 0) return std::string(64 << 10, static_cast<char>('a' + i % 26));
  return "\0v"s + std::to_string(i);
}

// Every header, entry inclusion proof and dual proof (all pairs) verifies;
// values of txs <= t give the truncation error, the others read back.
void CheckStore(Store* s, int n, uint64_t t) {
  ASSERT_EQ(s->TruncatedUpTo(), t);
  std::vector<TxHeader> hs(n + 1);
  for (int i = 1; i <= n; i++) {
    auto tx = s->ReadTx(i);
    ASSERT_TRUE(tx.ok()) << i << ": " << tx.status().ToString();
    hs[i] = tx->header;
    for (size_t e = 0; e < tx->entries.size(); e++) {
      auto v = s->ReadValue(tx->entries[e]);
      if (static_cast<uint64_t>(i) <= t) {
        ASSERT_FALSE(v.ok()) << i;
        EXPECT_TRUE(IsValueTruncated(v.status())) << v.status().ToString();
        EXPECT_EQ(v.status().code(), StatusCode::kFailedPrecondition);
      } else {
        ASSERT_TRUE(v.ok()) << i << ": " << v.status().ToString();
        EXPECT_EQ(*v, ExpectedValue(i, e));
      }
      auto ip = s->EntryInclusionProof(i, e);
      ASSERT_TRUE(ip.ok());
      EXPECT_TRUE(verify::VerifyHtreeInclusion(*ip, *tx->entries[e].Digest(tx->header.version),
                                               tx->header.eh));
    }
  }
  for (int a = 1; a <= n; a++) {
    for (int b = a; b <= n; b++) {
      auto p = s->BuildDualProof(hs[a], hs[b]);
      ASSERT_TRUE(p.ok()) << p.status().ToString();
      EXPECT_TRUE(verify::VerifyDualProof(*p, a, b, *hs[a].Alh(), *hs[b].Alh())) << a << "," << b;
    }
  }
}

void FlipByte(const std::string& p, uint64_t off) {
  ASSERT_TRUE(testutil::FlipByte(p, off)) << p << " offset " << off;
}

uint64_t AllocatedBytes(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return static_cast<uint64_t>(st.st_blocks) * 512;
}

TEST(StoreTruncateTest, ValuesGoHeadersEntriesAndProofsStay) {
  TempDir d;
  const int n = 30;
  {
    auto s = MustOpen(d.path());
    for (int i = 1; i <= n; i++) ASSERT_TRUE(s->Commit(TxOf(i)).ok());
    EXPECT_EQ(s->TruncatedUpTo(), 0u);
    auto r = s->TruncateValues(17);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->truncated_upto, 17u);
    // Txs 5, 10, 15 hold 64 KiB values: 15 whole blocks of each go.
    EXPECT_GE(r->released_bytes, 3u * 15 * 4096);
    CheckStore(s.get(), n, 17);
    // Commits go on after a truncation.
    ASSERT_TRUE(s->Commit(TxOf(n + 1)).ok());
    CheckStore(s.get(), n + 1, 17);
  }
  // Reopen keeps the truncation point.
  auto s = MustOpen(d.path());
  CheckStore(s.get(), n + 1, 17);
  auto report = store::VerifyStoreDir(d.path(), {});
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << report->mismatch->ToString();
  EXPECT_EQ(report->tx_count, static_cast<uint64_t>(n + 1));
  EXPECT_EQ(report->truncated_upto, 17u);
}

TEST(StoreTruncateTest, TheTruncationPointNeverMovesBackAndBadArgumentsChangeNothing) {
  TempDir d;
  auto s = MustOpen(d.path());
  for (int i = 1; i <= 10; i++) ASSERT_TRUE(s->Commit(TxOf(i)).ok());
  EXPECT_TRUE(s->TruncateValues(0).status().IsInvalidArgument());
  EXPECT_TRUE(s->TruncateValues(11).status().IsInvalidArgument());
  EXPECT_FALSE(std::filesystem::exists(d.path() + "/" + store::kTruncatedFile));
  ASSERT_TRUE(s->TruncateValues(6).ok());
  auto r = s->TruncateValues(3);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->truncated_upto, 6u);
  EXPECT_EQ(r->released_bytes, 0u);
  EXPECT_EQ(s->TruncatedUpTo(), 6u);
  ASSERT_TRUE(s->TruncateValues(8).ok());
  EXPECT_EQ(s->TruncatedUpTo(), 8u);
  CheckStore(s.get(), 10, 8);
  ASSERT_TRUE(s->Close().ok());
  EXPECT_TRUE(s->TruncateValues(9).status().code() == StatusCode::kFailedPrecondition);
  auto again = MustOpen(d.path());
  EXPECT_EQ(again->TruncatedUpTo(), 8u);
}

TEST(StoreTruncateTest, ExportOfATruncatedTxFailsClearly) {
  TempDir d;
  auto s = MustOpen(d.path());
  for (int i = 1; i <= 6; i++) ASSERT_TRUE(s->Commit(TxOf(i)).ok());
  ASSERT_TRUE(s->TruncateValues(4).ok());
  auto e = store::ExportTx(*s, 4);
  ASSERT_FALSE(e.ok());
  EXPECT_TRUE(IsValueTruncated(e.status()));
  EXPECT_NE(e.status().message().find("cannot export tx 4"), std::string::npos);
  EXPECT_TRUE(store::ExportTx(*s, 5).ok());
}

// Disk space really goes for large values; for small values interleaved with
// their tx records there are few whole blocks to give back.
TEST(StoreTruncateTest, DiskUsageDropsForLargeValues) {
  TempDir d;
  const std::string seg = d.path() + "/tx/00000000.tx";
  auto s = MustOpen(d.path());
  const std::string big(1 << 20, 'x');
  for (int i = 1; i <= 16; i++) {
    ASSERT_TRUE(
        s->Commit({EntrySpec{"\0k"s + std::to_string(i), big + std::to_string(i), {}}}).ok());
  }
  const uint64_t before = AllocatedBytes(seg);
  auto r = s->TruncateValues(16);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const uint64_t after = AllocatedBytes(seg);
  std::cout << "1 MiB values, 16 txs: allocated " << before << " -> " << after
            << " bytes, released " << r->released_bytes << "\n";
  EXPECT_GE(r->released_bytes, 16ull * ((1 << 20) - 4096));
  EXPECT_LE(after + 15ull * (1 << 20), before);

  TempDir small;
  const std::string small_seg = small.path() + "/tx/00000000.tx";
  auto t = MustOpen(small.path());
  for (int i = 1; i <= 500; i++) {
    ASSERT_TRUE(t->Commit({EntrySpec{"\0k"s + std::to_string(i), std::string(100, 'v'), {}}}).ok());
  }
  ASSERT_TRUE(t->Close().ok());
  t = MustOpen(small.path());
  const uint64_t small_before = AllocatedBytes(small_seg);
  auto rs = t->TruncateValues(500);
  ASSERT_TRUE(rs.ok());
  std::cout << "100-byte values, 500 txs: allocated " << small_before << " -> "
            << AllocatedBytes(small_seg) << " bytes, released " << rs->released_bytes << "\n";
  EXPECT_EQ(rs->released_bytes, 0u);
  EXPECT_TRUE(IsValueTruncated(t->ReadValue(t->ReadTx(7)->entries[0]).status()));

  TempDir mid;
  auto m = MustOpen(mid.path());
  for (int i = 1; i <= 200; i++) {
    ASSERT_TRUE(
        m->Commit({EntrySpec{"\0k"s + std::to_string(i), std::string(16 << 10, 'm'), {}}}).ok());
  }
  ASSERT_TRUE(m->Close().ok());
  m = MustOpen(mid.path());
  const uint64_t mid_before = AllocatedBytes(mid.path() + "/tx/00000000.tx");
  auto rm = m->TruncateValues(200);
  ASSERT_TRUE(rm.ok());
  std::cout << "16 KiB values, 200 txs: allocated " << mid_before << " -> "
            << AllocatedBytes(mid.path() + "/tx/00000000.tx") << " bytes, released "
            << rm->released_bytes << "\n";
  // At least 3 of each value's 4 blocks go.
  EXPECT_GE(rm->released_bytes, 200u * 3 * 4096);
}

// Format 1 keeps values in their own log, back to back: consecutive txs'
// values are one range, so nearly all of it is given back.
TEST(StoreTruncateTest, Format1ValueLogIsPunchedInOneRun) {
  TempDir d;
  std::filesystem::copy(
      std::string(IMMUDB_SOURCE_DIR) + "/testdata/golden/store-v1", d.path(),
      std::filesystem::copy_options::recursive | std::filesystem::copy_options::overwrite_existing);
  auto s = MustOpen(d.path());
  const uint64_t first = s->CurrentState().tx_id;
  for (int i = 0; i < 8; i++) {
    ASSERT_TRUE(
        s->Commit({EntrySpec{"\0big"s + std::to_string(i), std::string(300000, 'b'), {}}}).ok());
  }
  const uint64_t last = s->CurrentState().tx_id;
  auto r = s->TruncateValues(last - 1);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GE(r->released_bytes, 7ull * 300000 - 8192);
  for (uint64_t id = 1; id <= last; id++) {
    auto tx = s->ReadTx(id);
    ASSERT_TRUE(tx.ok());
    for (const TxEntry& e : tx->entries) {
      auto v = s->ReadValue(e);
      if (id < last && e.vlen > 0) {
        EXPECT_TRUE(IsValueTruncated(v.status())) << id;
      } else {
        EXPECT_TRUE(v.ok()) << id << ": " << v.status().ToString();
      }
    }
  }
  EXPECT_GT(last, first);
  ASSERT_TRUE(s->Close().ok());
  auto report = store::VerifyStoreDir(d.path(), {});
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << report->mismatch->ToString();
}

// Format 3 syncs the commit log lazily: a crash may lose commit records of
// truncated txs; recovery finds them again in the tx log without their values.
TEST(StoreTruncateTest, LostCommitRecordsOfTruncatedTxsAreRecovered) {
  TempDir d;
  const std::string clog = d.path() + "/commit/00000000.clog";
  Hash alh;
  {
    auto s = MustOpen(d.path());
    for (int i = 1; i <= 30; i++) ASSERT_TRUE(s->Commit(TxOf(i)).ok());
    ASSERT_TRUE(s->TruncateValues(20).ok());
    alh = s->CurrentState().alh;
  }
  std::filesystem::remove(d.path() + "/" + store::kDurableFile);
  std::filesystem::resize_file(clog, 10 * store::kCommitRecordSize + 30);
  auto s = MustOpen(d.path());
  EXPECT_EQ(s->CurrentState().tx_id, 30u);
  EXPECT_EQ(s->CurrentState().alh, alh);
  CheckStore(s.get(), 30, 20);
}

TEST(StoreTruncateTest, VerifierSkipsOnlyDiscardedValuesAndCatchesTheRest) {
  TempDir d;
  uint64_t voff_after = 0, voff_before = 0;
  {
    auto s = MustOpen(d.path());
    for (int i = 1; i <= 12; i++) ASSERT_TRUE(s->Commit(TxOf(i)).ok());
    ASSERT_TRUE(s->TruncateValues(6).ok());
    voff_before = s->ReadTx(5)->entries[0].voff;
    voff_after = s->ReadTx(10)->entries[0].voff;
  }
  const std::string seg = d.path() + "/tx/00000000.tx";
  auto ok = store::VerifyStoreDir(d.path(), {});
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok->ok()) << ok->mismatch->ToString();
  // A discarded value cannot be checked (its bytes are gone anyway).
  FlipByte(seg, voff_before + 70000 % (64 << 10));
  ok = store::VerifyStoreDir(d.path(), {});
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok->ok());
  // A value after the truncation point still is.
  FlipByte(seg, voff_after + 1000);
  auto bad = store::VerifyStoreDir(d.path(), {});
  ASSERT_TRUE(bad.ok());
  ASSERT_FALSE(bad->ok());
  EXPECT_EQ(bad->mismatch->tx_id, 10u);
  EXPECT_NE(bad->mismatch->what.find("does not match its hash"), std::string::npos);
  {
    auto s = MustOpen(d.path());
    auto v = s->ReadValue(s->ReadTx(10)->entries[0]);
    EXPECT_TRUE(v.status().IsCorruption()) << v.status().ToString();
  }
  FlipByte(seg, voff_after + 1000);
  // A damaged truncation mark: the verifier names it and the store does not open.
  FlipByte(d.path() + "/" + store::kTruncatedFile, 3);
  bad = store::VerifyStoreDir(d.path(), {});
  ASSERT_TRUE(bad.ok());
  ASSERT_FALSE(bad->ok());
  EXPECT_EQ(bad->mismatch->file, store::kTruncatedFile);
  auto s = Store::Open(d.path(), {});
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.status().IsCorruption()) << s.status().ToString();
}

TEST(StoreTruncateTest, MarkOfAnotherStoreIsRefused) {
  TempDir a, b;
  for (const TempDir* d : {&a, &b}) {
    StoreOptions o;
    const int64_t base = d == &a ? 1700000000 : 1800000000;
    auto t = std::make_shared<int64_t>(base);
    o.now_unix_seconds = [t] { return ++*t; };
    auto s = MustOpen(d->path(), o);
    for (int i = 1; i <= 5; i++) ASSERT_TRUE(s->Commit(TxOf(i)).ok());
    if (d == &a) {
      ASSERT_TRUE(s->TruncateValues(3).ok());
    }
  }
  std::filesystem::copy_file(a.path() + "/" + store::kTruncatedFile,
                             b.path() + "/" + store::kTruncatedFile);
  auto s = Store::Open(b.path(), {});
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.status().IsCorruption()) << s.status().ToString();
}

// A failure midway through discarding (the punches) leaves the mark
// written: after a crash the store opens, keeps the point, verifies, and
// the next truncation finishes the job.
TEST(StoreTruncateTest, CrashWhileDiscardingLeavesAStoreThatOpensAndVerifies) {
  TempDir d;
  testutil::FaultInjectionFileSystem ffs(FileSystem::Default());
  StoreOptions o;
  o.fs = &ffs;
  {
    auto s = MustOpen(d.path(), o);
    for (int i = 1; i <= 30; i++) ASSERT_TRUE(s->Commit(TxOf(i)).ok());
    ffs.FailNth(testutil::FaultOp::kPunchHole, 2);
    auto r = s->TruncateValues(20);
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(r.status().IsIOError()) << r.status().ToString();
    // The point is already recorded: reads know the values are gone.
    EXPECT_EQ(s->TruncatedUpTo(), 20u);
    ffs.SetActive(false);
  }
  ASSERT_TRUE(ffs.DropUnsyncedData().ok());
  ffs.SetActive(true);
  {
    // The commit log is synced lazily: opening recovers the txs it lacks
    // from the tx log, those up to the truncation point without values.
    auto s = MustOpen(d.path(), o);
    CheckStore(s.get(), 30, 20);
  }
  auto report = store::VerifyStoreDir(d.path(), {});
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << report->mismatch->ToString();
  auto s = MustOpen(d.path(), o);
  auto r = s->TruncateValues(20);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // Txs 10, 15 and 20 (after the first punch) still had their 64 KiB.
  EXPECT_GE(r->released_bytes, 2u * 15 * 4096);
  CheckStore(s.get(), 30, 20);
}

// A crash before the mark is durable (here: its rename fails) discards
// nothing and leaves the old point.
TEST(StoreTruncateTest, FailureBeforeTheMarkIsDurableDiscardsNothing) {
  TempDir d;
  testutil::FaultInjectionFileSystem ffs(FileSystem::Default());
  StoreOptions o;
  o.fs = &ffs;
  {
    auto s = MustOpen(d.path(), o);
    for (int i = 1; i <= 12; i++) ASSERT_TRUE(s->Commit(TxOf(i)).ok());
    ASSERT_TRUE(s->TruncateValues(4).ok());
    const uint64_t punches = ffs.OpCount(testutil::FaultOp::kPunchHole);
    ffs.FailNth(testutil::FaultOp::kRename, 1);
    EXPECT_FALSE(s->TruncateValues(10).ok());
    EXPECT_EQ(s->TruncatedUpTo(), 4u);
    EXPECT_EQ(ffs.OpCount(testutil::FaultOp::kPunchHole), punches);
    CheckStore(s.get(), 12, 4);
    ffs.SetActive(false);
  }
  ASSERT_TRUE(ffs.DropUnsyncedData().ok());
  ffs.SetActive(true);
  auto s = MustOpen(d.path(), o);
  CheckStore(s.get(), 12, 4);
}

// Unsynced mode: only txs the background syncer made durable may be
// truncated, and values written through the tx log's mapping are discarded
// like any others.
TEST(StoreTruncateTest, UnsyncedStoreTruncatesOnlyDurableTxs) {
  TempDir d;
  StoreOptions o;
  o.synced = false;
  int n = 0;
  {
    auto s = MustOpen(d.path(), o);
    for (n = 1; n <= 30; n++) ASSERT_TRUE(s->Commit(TxOf(n)).ok());
    n--;
    Result<Store::TruncationResult> r = Status::FailedPrecondition("not tried");
    for (int tries = 0; tries < 200; tries++) {
      r = s->TruncateValues(20);
      if (r.ok()) break;
      ASSERT_EQ(r.status().code(), StatusCode::kFailedPrecondition) << r.status().ToString();
      EXPECT_NE(r.status().message().find("not durable yet"), std::string::npos);
      // A later batch runs the background sync once its interval has passed.
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
      ASSERT_TRUE(s->Commit(TxOf(++n)).ok());
    }
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_GE(r->released_bytes, 3u * 15 * 4096);
    for (int i = 0; i < 5; i++) ASSERT_TRUE(s->Commit(TxOf(++n)).ok());
    CheckStore(s.get(), n, 20);
  }
  auto s = MustOpen(d.path(), o);
  CheckStore(s.get(), n, 20);
}

// A process killed (SIGKILL) at a random moment while it commits and
// truncates leaves a store that opens, keeps a truncation point it reached,
// reads every value after it and verifies offline.
TEST(StoreTruncateTest, KilledWhileTruncatingOpensAndVerifies) {
  TempDir d;
  uint64_t last_t = 0;
  for (int round = 0; round < 4; round++) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto s = Store::Open(d.path(), {});
      if (!s.ok()) _exit(2);
      for (;;) {
        const int next = static_cast<int>((*s)->CurrentState().tx_id) + 1;
        if (!(*s)->Commit(TxOf(next)).ok()) _exit(3);
        if (next % 4 == 0 && !(*s)->TruncateValues(next - 2).ok()) _exit(4);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(60 + 70 * round));
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
    {
      auto s = MustOpen(d.path());
      ASSERT_NE(s, nullptr);
      const uint64_t t = s->TruncatedUpTo();
      const uint64_t n = s->CurrentState().tx_id;
      EXPECT_GE(t, last_t);
      EXPECT_LE(t, n);
      last_t = t;
      for (uint64_t id = 1; id <= n; id++) {
        auto tx = s->ReadTx(id);
        ASSERT_TRUE(tx.ok()) << id << ": " << tx.status().ToString();
        for (size_t e = 0; e < tx->entries.size(); e++) {
          auto v = s->ReadValue(tx->entries[e]);
          if (id <= t) {
            EXPECT_TRUE(IsValueTruncated(v.status())) << id << ": " << v.status().ToString();
          } else {
            ASSERT_TRUE(v.ok()) << id << ": " << v.status().ToString();
            EXPECT_EQ(*v, ExpectedValue(static_cast<int>(id), e));
          }
        }
      }
    }
    auto report = store::VerifyStoreDir(d.path(), {});
    ASSERT_TRUE(report.ok());
    EXPECT_TRUE(report->ok()) << report->mismatch->ToString();
  }
  EXPECT_GT(last_t, 0u);
}

TEST(StoreTruncateTest, ReadsDuringTruncationGetTheValueOrTheTruncationError) {
  TempDir d;
  auto s = MustOpen(d.path());
  for (int i = 1; i <= 60; i++) ASSERT_TRUE(s->Commit(TxOf(i)).ok());
  std::vector<Tx> txs;
  for (int i = 1; i <= 60; i++) txs.push_back(*s->ReadTx(i));
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::thread reader([&] {
    while (!stop.load()) {
      for (const Tx& tx : txs) {
        for (const TxEntry& e : tx.entries) {
          auto v = s->ReadValue(e);
          if (!v.ok() && !IsValueTruncated(v.status())) bad++;
        }
      }
    }
  });
  std::thread writer([&] {
    for (int i = 61; i <= 90; i++) ASSERT_TRUE(s->Commit(TxOf(i)).ok());
  });
  for (uint64_t t = 5; t <= 60; t += 5) ASSERT_TRUE(s->TruncateValues(t).ok());
  writer.join();
  stop = true;
  reader.join();
  EXPECT_EQ(bad.load(), 0);
  CheckStore(s.get(), 60, 60);
}

}  // namespace
}  // namespace immudb
