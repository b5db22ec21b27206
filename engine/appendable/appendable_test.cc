#include "appendable/appendable.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "immudb/env.h"
#include "testutil/fault_fs.h"
#include "testutil/test_util.h"

namespace immudb {
namespace {

// Deterministic content: the byte at global offset i.
char ByteAt(uint64_t i) { return static_cast<char>((i * 131 + (i >> 8) * 7) & 0xff); }
std::string Bytes(uint64_t from, size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i++) s[i] = ByteAt(from + i);
  return s;
}

AppendableOptions SmallOpts(uint64_t segment_size = 100, size_t buffer = 32) {
  AppendableOptions o;
  o.ext = "dat";
  o.segment_size = segment_size;
  o.write_buffer_size = buffer;
  return o;
}

class AppendableTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(fs_->CreateDir("/db").ok()); }

  std::unique_ptr<Appendable> OpenOrDie(const AppendableOptions& opts, FileSystem* fs = nullptr) {
    auto r = Appendable::Open(fs ? fs : fs_.get(), dir_, opts);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : nullptr;
  }
  std::string Read(const Appendable& a, uint64_t off, size_t n) {
    std::string s(n, '\0');
    Status st = a.ReadAt(off, n, s.data());
    EXPECT_TRUE(st.ok()) << st.ToString();
    return s;
  }
  // Appends `n` pattern bytes in pieces of size 1..max_piece.
  void AppendPattern(Appendable* a, uint64_t n, size_t max_piece, uint32_t seed) {
    std::mt19937 rng(seed);
    uint64_t off = a->Size();
    const uint64_t end = off + n;
    while (off < end) {
      size_t len = std::min<uint64_t>(end - off, 1 + rng() % max_piece);
      auto r = a->Append(Bytes(off, len));
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      ASSERT_EQ(*r, off);
      off += len;
    }
  }

  std::unique_ptr<FileSystem> fs_ = NewMemFileSystem();
  std::string dir_ = "/db/log";
};

TEST_F(AppendableTest, AppendAndReadAcrossSegmentsBufferedAndFlushed) {
  auto a = OpenOrDie(SmallOpts());
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->Size(), 0u);
  AppendPattern(a.get(), 1000, 70, 1);
  EXPECT_EQ(a->Size(), 1000u);
  // Every range, including ones that straddle segment and buffer boundaries.
  for (uint64_t off = 0; off < 1000; off += 37) {
    for (size_t n : {1, 50, 150}) {
      if (off + n > 1000) continue;
      ASSERT_EQ(Read(*a, off, n), Bytes(off, n)) << "offset " << off << " n " << n;
    }
  }
  ASSERT_TRUE(a->Flush().ok());
  EXPECT_EQ(Read(*a, 0, 1000), Bytes(0, 1000));
  auto kids = fs_->GetChildren(dir_);
  ASSERT_TRUE(kids.ok());
  EXPECT_EQ(kids->size(), 10u);
  EXPECT_TRUE(fs_->FileExists(dir_ + "/00000000.dat"));
  EXPECT_TRUE(fs_->FileExists(dir_ + "/00000009.dat"));
  EXPECT_EQ(*fs_->GetFileSize(dir_ + "/00000009.dat"), 100u);
}

TEST_F(AppendableTest, ReadPastEndIsOutOfRange) {
  auto a = OpenOrDie(SmallOpts());
  ASSERT_TRUE(a->Append("abc").ok());
  char buf[4];
  EXPECT_EQ(a->ReadAt(0, 4, buf).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(a->ReadAt(4, 0, buf).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(a->ReadAt(~0ull, 2, buf).code(), StatusCode::kOutOfRange);
  EXPECT_TRUE(a->ReadAt(3, 0, buf).ok());
}

TEST_F(AppendableTest, LargeAppendBypassesBufferAndSpansSegments) {
  auto a = OpenOrDie(SmallOpts(100, 16));
  ASSERT_TRUE(a->Append(Bytes(0, 5)).ok());
  auto r = a->Append(Bytes(5, 333));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 5u);
  ASSERT_TRUE(a->Append(Bytes(338, 3)).ok());
  EXPECT_EQ(Read(*a, 0, 341), Bytes(0, 341));
}

TEST_F(AppendableTest, ZeroBufferWritesEveryAppendThrough) {
  auto a = OpenOrDie(SmallOpts(64, 0));
  AppendPattern(a.get(), 500, 20, 2);
  EXPECT_EQ(Read(*a, 0, 500), Bytes(0, 500));
}

TEST_F(AppendableTest, ReopenSeesEverythingClosed) {
  {
    auto a = OpenOrDie(SmallOpts());
    AppendPattern(a.get(), 450, 40, 3);
    ASSERT_TRUE(a->Close().ok());
  }
  auto a = OpenOrDie(SmallOpts());
  EXPECT_EQ(a->Size(), 450u);
  EXPECT_EQ(Read(*a, 0, 450), Bytes(0, 450));
  AppendPattern(a.get(), 155, 40, 4);
  ASSERT_TRUE(a->Sync().ok());
  a.reset();
  a = OpenOrDie(SmallOpts());
  EXPECT_EQ(a->Size(), 605u);
  EXPECT_EQ(Read(*a, 0, 605), Bytes(0, 605));
}

TEST_F(AppendableTest, ReopenAtExactSegmentBoundaryStartsNewSegment) {
  {
    auto a = OpenOrDie(SmallOpts());
    AppendPattern(a.get(), 200, 30, 5);
    ASSERT_TRUE(a->Close().ok());
  }
  auto a = OpenOrDie(SmallOpts());
  EXPECT_EQ(a->Size(), 200u);
  AppendPattern(a.get(), 10, 30, 6);
  ASSERT_TRUE(a->Flush().ok());
  EXPECT_TRUE(fs_->FileExists(dir_ + "/00000002.dat"));
  EXPECT_EQ(Read(*a, 190, 20), Bytes(190, 20));
}

TEST_F(AppendableTest, TruncateRemovesLaterSegmentsAndCutsTheLast) {
  auto a = OpenOrDie(SmallOpts());
  AppendPattern(a.get(), 530, 50, 7);
  ASSERT_TRUE(a->Truncate(250).ok());
  EXPECT_EQ(a->Size(), 250u);
  EXPECT_FALSE(fs_->FileExists(dir_ + "/00000003.dat"));
  EXPECT_EQ(*fs_->GetFileSize(dir_ + "/00000002.dat"), 50u);
  char c;
  EXPECT_EQ(a->ReadAt(250, 1, &c).code(), StatusCode::kOutOfRange);
  // Appends continue from the cut.
  AppendPattern(a.get(), 100, 50, 8);
  EXPECT_EQ(Read(*a, 0, 350), Bytes(0, 350));
  ASSERT_TRUE(a->Truncate(200).ok());  // Exactly at a boundary: keeps 2 full segments.
  EXPECT_FALSE(fs_->FileExists(dir_ + "/00000002.dat"));
  a.reset();
  a = OpenOrDie(SmallOpts());
  EXPECT_EQ(a->Size(), 200u);
  ASSERT_TRUE(a->Truncate(0).ok());
  EXPECT_EQ(a->Size(), 0u);
  EXPECT_TRUE(fs_->GetChildren(dir_)->empty());
  AppendPattern(a.get(), 120, 50, 9);
  EXPECT_EQ(Read(*a, 0, 120), Bytes(0, 120));
  EXPECT_FALSE(a->Truncate(121).ok());
}

TEST_F(AppendableTest, TruncateInsideTheWriteBuffer) {
  auto a = OpenOrDie(SmallOpts(100, 64));
  AppendPattern(a.get(), 40, 10, 10);
  ASSERT_TRUE(a->Truncate(25).ok());
  EXPECT_EQ(a->Size(), 25u);
  AppendPattern(a.get(), 30, 10, 11);
  EXPECT_EQ(Read(*a, 0, 55), Bytes(0, 55));
}

TEST_F(AppendableTest, MissingSegmentIsCorruptionNamingTheFile) {
  {
    auto a = OpenOrDie(SmallOpts());
    AppendPattern(a.get(), 350, 50, 12);
    ASSERT_TRUE(a->Close().ok());
  }
  ASSERT_TRUE(fs_->RemoveFile(dir_ + "/00000001.dat").ok());
  auto r = Appendable::Open(fs_.get(), dir_, SmallOpts());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
  EXPECT_NE(r.status().message().find("00000001.dat"), std::string::npos);
}

TEST_F(AppendableTest, ShortMiddleSegmentIsCorruptionNamingTheFile) {
  {
    auto a = OpenOrDie(SmallOpts());
    AppendPattern(a.get(), 350, 50, 13);
    ASSERT_TRUE(a->Close().ok());
  }
  {
    auto f = fs_->OpenFile(dir_ + "/00000001.dat", false);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->Truncate(99).ok());
  }
  auto r = Appendable::Open(fs_.get(), dir_, SmallOpts());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsCorruption());
  EXPECT_NE(r.status().message().find("00000001.dat"), std::string::npos) << r.status().ToString();
}

TEST_F(AppendableTest, OversizedLastSegmentOrWrongSegmentSizeIsCorruption) {
  {
    auto a = OpenOrDie(SmallOpts());
    AppendPattern(a.get(), 250, 50, 14);
    ASSERT_TRUE(a->Close().ok());
  }
  // Opened with a smaller segment size, the full segments are too long.
  auto r = Appendable::Open(fs_.get(), dir_, SmallOpts(60));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsCorruption());
  EXPECT_NE(r.status().message().find("00000000.dat"), std::string::npos);
}

TEST_F(AppendableTest, UnrelatedFilesAreIgnored) {
  {
    auto a = OpenOrDie(SmallOpts());
    AppendPattern(a.get(), 150, 50, 15);
    ASSERT_TRUE(a->Close().ok());
  }
  ASSERT_TRUE(fs_->OpenFile(dir_ + "/00000007.tmp", true).ok());
  ASSERT_TRUE(fs_->OpenFile(dir_ + "/notes.dat", true).ok());
  auto a = OpenOrDie(SmallOpts());
  EXPECT_EQ(a->Size(), 150u);
}

TEST_F(AppendableTest, InvalidOptionsAreRejected) {
  EXPECT_TRUE(Appendable::Open(fs_.get(), dir_, SmallOpts(0)).status().IsInvalidArgument());
  AppendableOptions o = SmallOpts();
  o.ext = "";
  EXPECT_TRUE(Appendable::Open(fs_.get(), dir_, o).status().IsInvalidArgument());
}

TEST_F(AppendableTest, ConcurrentReadersWithAWriter) {
  auto a = OpenOrDie(SmallOpts(4096, 512));
  constexpr uint64_t kTotal = 400000;
  std::atomic<bool> done{false};
  std::atomic<uint64_t> reads{0}, bad{0};
  auto reader = [&](uint32_t seed) {
    std::mt19937_64 rng(seed);
    std::string buf;
    while (!done.load(std::memory_order_relaxed)) {
      const uint64_t size = a->Size();
      if (size == 0) continue;
      const uint64_t off = rng() % size;
      const size_t n = std::min<uint64_t>(size - off, 1 + rng() % 300);
      buf.resize(n);
      if (!a->ReadAt(off, n, buf.data()).ok() || buf != Bytes(off, n)) bad++;
      reads++;
    }
  };
  std::vector<std::thread> readers;
  for (uint32_t i = 0; i < 3; i++) readers.emplace_back(reader, 100 + i);
  std::mt19937 rng(16);
  uint64_t off = 0;
  // Keeps writing until the readers have really run alongside the writer.
  while (off < kTotal || (reads.load() < 2000 && off < 50 * kTotal)) {
    size_t len = 1 + rng() % 200;
    if (rng() % 50 == 0) len = 1000 + rng() % 3000;  // Bypasses the buffer.
    ASSERT_TRUE(a->Append(Bytes(off, len)).ok());
    off += len;
    if (rng() % 100 == 0) {
      ASSERT_TRUE(a->Flush().ok());
    }
    if (rng() % 500 == 0) {
      ASSERT_TRUE(a->Sync().ok());
    }
  }
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0u);
  EXPECT_GT(reads.load(), 0u);
  EXPECT_EQ(Read(*a, 0, off), Bytes(0, off));
}

class AppendableFaultTest : public AppendableTest {
 protected:
  void SetUp() override {
    AppendableTest::SetUp();
    fault_ = std::make_unique<testutil::FaultInjectionFileSystem>(fs_.get());
  }
  // Simulates a crash: power cut, drop the object, lose unsynced data.
  void Crash(std::unique_ptr<Appendable>* a, const testutil::DropOptions& opts = {}) {
    fault_->SetActive(false);
    a->reset();
    ASSERT_TRUE(fault_->DropUnsyncedData(opts).ok());
    fault_->SetActive(true);
  }
  std::unique_ptr<testutil::FaultInjectionFileSystem> fault_;
};

TEST_F(AppendableFaultTest, FailedFlushIsStickyUntilReopen) {
  auto a = OpenOrDie(SmallOpts(100, 32), fault_.get());
  AppendPattern(a.get(), 20, 10, 20);
  fault_->FailNth(testutil::FaultOp::kAppend, 1, testutil::FaultKind::kShortWrite);
  Status s = a->Flush();
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(s.message().find("offset 0"), std::string::npos) << s.ToString();
  // Every later write fails, even though the file system works again.
  EXPECT_FALSE(a->Append("x").ok());
  EXPECT_FALSE(a->Flush().ok());
  EXPECT_FALSE(a->Sync().ok());
  EXPECT_FALSE(a->Truncate(0).ok());
  // What was appended is still readable from memory.
  EXPECT_EQ(Read(*a, 0, 20), Bytes(0, 20));
  a.reset();
  // The short write left 10 bytes in the file; reopening sees exactly them.
  a = OpenOrDie(SmallOpts(100, 32), fault_.get());
  EXPECT_EQ(a->Size(), 10u);
  EXPECT_EQ(Read(*a, 0, 10), Bytes(0, 10));
  AppendPattern(a.get(), 5, 10, 21);
  EXPECT_TRUE(a->Sync().ok());
}

TEST_F(AppendableFaultTest, FailedSyncIsSticky) {
  auto a = OpenOrDie(SmallOpts(), fault_.get());
  AppendPattern(a.get(), 50, 10, 22);
  fault_->FailNth(testutil::FaultOp::kSync, 1);
  EXPECT_FALSE(a->Sync().ok());
  EXPECT_FALSE(a->Sync().ok());  // Never retried as if nothing happened.
  EXPECT_FALSE(a->Append("x").ok());
  EXPECT_EQ(fault_->OpCount(testutil::FaultOp::kSync), 1u);
}

TEST_F(AppendableFaultTest, FailedDirectorySyncAfterNewSegmentIsSticky) {
  auto a = OpenOrDie(SmallOpts(), fault_.get());
  AppendPattern(a.get(), 50, 10, 23);
  fault_->FailNth(testutil::FaultOp::kSyncDir, 1, testutil::FaultKind::kNoSpace);
  Status s = a->Sync();
  EXPECT_TRUE(s.IsIOError());
  EXPECT_FALSE(a->Append("x").ok());
}

TEST_F(AppendableFaultTest, SyncSkipsTheDirectoryWhenNoSegmentWasCreated) {
  auto a = OpenOrDie(SmallOpts(), fault_.get());
  AppendPattern(a.get(), 50, 10, 24);
  ASSERT_TRUE(a->Sync().ok());
  const uint64_t dir_syncs = fault_->OpCount(testutil::FaultOp::kSyncDir);
  const uint64_t file_syncs = fault_->OpCount(testutil::FaultOp::kSync);
  AppendPattern(a.get(), 20, 10, 25);
  ASSERT_TRUE(a->Sync().ok());
  EXPECT_EQ(fault_->OpCount(testutil::FaultOp::kSyncDir), dir_syncs);
  EXPECT_EQ(fault_->OpCount(testutil::FaultOp::kSync), file_syncs + 1);
  ASSERT_TRUE(a->Sync().ok());  // Nothing new: no fsync at all.
  EXPECT_EQ(fault_->OpCount(testutil::FaultOp::kSync), file_syncs + 1);
}

TEST_F(AppendableFaultTest, CrashLosesOnlyUnsyncedBytes) {
  auto a = OpenOrDie(SmallOpts(), fault_.get());
  AppendPattern(a.get(), 250, 40, 26);
  ASSERT_TRUE(a->Sync().ok());
  AppendPattern(a.get(), 30, 40, 27);
  ASSERT_TRUE(a->Flush().ok());
  Crash(&a);
  a = OpenOrDie(SmallOpts(), fault_.get());
  EXPECT_EQ(a->Size(), 250u);
  EXPECT_EQ(Read(*a, 0, 250), Bytes(0, 250));
}

TEST_F(AppendableFaultTest, CrashAfterSegmentRolloverKeepsTheSealedSegment) {
  auto a = OpenOrDie(SmallOpts(), fault_.get());
  AppendPattern(a.get(), 250, 40, 26);
  ASSERT_TRUE(a->Sync().ok());
  // Reaches into a new segment, which seals (fsyncs) segment 2 first; the new
  // segment's data and directory entry were never synced.
  AppendPattern(a.get(), 130, 40, 27);
  ASSERT_TRUE(a->Flush().ok());
  Crash(&a);
  a = OpenOrDie(SmallOpts(), fault_.get());
  EXPECT_EQ(a->Size(), 300u);
  EXPECT_EQ(Read(*a, 0, 300), Bytes(0, 300));
  EXPECT_FALSE(fs_->FileExists(dir_ + "/00000003.dat"));
}

TEST_F(AppendableFaultTest, TornTailKeepsASyncedPrefixAndOpens) {
  for (uint64_t seed = 1; seed <= 30; seed++) {
    SCOPED_TRACE(seed);
    dir_ = "/db/log" + std::to_string(seed);
    auto a = OpenOrDie(SmallOpts(100, 16), fault_.get());
    AppendPattern(a.get(), 230, 30, 28);
    ASSERT_TRUE(a->Sync().ok());
    AppendPattern(a.get(), 60 + seed * 5, 30, 29);
    ASSERT_TRUE(a->Flush().ok());
    const uint64_t full = a->Size();
    testutil::DropOptions opts;
    opts.tear_last_write = true;
    opts.seed = seed;
    Crash(&a, opts);
    // A crash may tear only the last segment: earlier ones were sealed.
    a = OpenOrDie(SmallOpts(100, 16), fault_.get());
    ASSERT_NE(a, nullptr);
    ASSERT_GE(a->Size(), 230u);
    ASSERT_LT(a->Size(), full);
    EXPECT_EQ(Read(*a, 0, a->Size()), Bytes(0, a->Size()));
  }
}

TEST_F(AppendableFaultTest, TruncateIsDurable) {
  auto a = OpenOrDie(SmallOpts(), fault_.get());
  AppendPattern(a.get(), 330, 40, 30);
  ASSERT_TRUE(a->Sync().ok());
  ASSERT_TRUE(a->Truncate(120).ok());
  Crash(&a);
  a = OpenOrDie(SmallOpts(), fault_.get());
  EXPECT_EQ(a->Size(), 120u);
  EXPECT_EQ(Read(*a, 0, 120), Bytes(0, 120));
}

TEST_F(AppendableFaultTest, EveryFailedOperationLeavesAReadablePrefix) {
  // Count the operations of a small workload, then fail each in turn.
  auto workload = [&](Appendable* a) -> Status {
    for (uint64_t off = 0; off < 420; off += 30) {
      IMMUDB_ASSIGN_OR_RETURN(uint64_t at, a->Append(Bytes(off, 30)));
      if (at != off) return Status::Internal("bad offset");
      if (off % 90 == 0) IMMUDB_RETURN_IF_ERROR(a->Sync());
    }
    return a->Sync();
  };
  {
    auto a = OpenOrDie(SmallOpts(100, 40), fault_.get());
    Status s = workload(a.get());
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  const testutil::FaultOp ops[] = {testutil::FaultOp::kAppend, testutil::FaultOp::kSync,
                                   testutil::FaultOp::kSyncDir, testutil::FaultOp::kOpenFile};
  int runs = 0;
  for (testutil::FaultOp op : ops) {
    dir_ = "/db/count" + std::to_string(static_cast<int>(op));
    fault_->ClearFaults();
    const uint64_t before = fault_->OpCount(op);
    {
      auto a = OpenOrDie(SmallOpts(100, 40), fault_.get());
      Status s = workload(a.get());
      ASSERT_TRUE(s.ok()) << s.ToString();
    }
    const uint64_t count = fault_->OpCount(op) - before;
    for (uint64_t n = 1; n <= count; n++) {
      dir_ = "/db/run" + std::to_string(runs++);
      fault_->FailNth(op, n);
      {
        auto opened = Appendable::Open(fault_.get(), dir_, SmallOpts(100, 40));
        if (!opened.ok()) continue;
        EXPECT_FALSE(workload(opened->get()).ok()) << "fault " << n << " was not reported";
      }
      fault_->ClearFaults();
      auto a = OpenOrDie(SmallOpts(100, 40), fault_.get());
      ASSERT_NE(a, nullptr);
      EXPECT_EQ(Read(*a, 0, a->Size()), Bytes(0, a->Size()));
    }
  }
  EXPECT_GT(runs, 10);
}

TEST(AppendablePosixTest, AppendSyncReopenOnDisk) {
  testutil::TempDir tmp;
  FileSystem* fs = FileSystem::Default();
  const std::string dir = tmp.Sub("a/b");
  {
    auto a = Appendable::Open(fs, dir, SmallOpts(1000, 64));
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    for (uint64_t off = 0; off < 5000; off += 50) ASSERT_TRUE((*a)->Append(Bytes(off, 50)).ok());
    ASSERT_TRUE((*a)->Sync().ok());
    ASSERT_TRUE((*a)->Truncate(4321).ok());
  }
  auto a = Appendable::Open(fs, dir, SmallOpts(1000, 64));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ((*a)->Size(), 4321u);
  std::string s(4321, '\0');
  ASSERT_TRUE((*a)->ReadAt(0, s.size(), s.data()).ok());
  EXPECT_EQ(s, Bytes(0, 4321));
  EXPECT_EQ(*fs->GetFileSize(dir + "/00000004.dat"), 321u);
}

}  // namespace
}  // namespace immudb

namespace immudb {
namespace {

// Zeros written ahead (prezero_ahead) on the real file system: appends
// overwrite them in place, a crash leaves them after the data (the store
// cuts them), and Close cuts them.
TEST(AppendablePrezeroTest, ZerosAheadAreOverwrittenAndCutOnClose) {
  testutil::TempDir d;
  FileSystem* fs = FileSystem::Default();
  AppendableOptions o;
  o.ext = "dat";
  o.segment_size = 1 << 20;
  o.write_buffer_size = 4096;
  o.prezero_ahead = 64 << 10;
  const std::string dir = d.Sub("log");
  const std::string seg = dir + "/00000000.dat";
  auto a = Appendable::Open(fs, dir, o);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  uint64_t off = 0;
  for (int round = 0; round < 40; round++) {
    const std::string data = Bytes(off, 3000 + round);
    ASSERT_TRUE((*a)->Append(data).ok());
    off += data.size();
    auto ticket = (*a)->FlushForSync();
    ASSERT_TRUE(ticket.ok());
    auto synced = (*a)->SyncFlushed();
    ASSERT_TRUE(synced.ok());
    EXPECT_EQ(*synced, *ticket);
    // The file reaches past the data: by 32-64 KiB after the first fill,
    // then (the step doubling up to prezero_ahead) by at least half of it.
    auto size = fs->GetFileSize(seg);
    ASSERT_TRUE(size.ok());
    EXPECT_GE(*size, off + (round == 0 ? 32 << 10 : o.prezero_ahead / 2)) << round;
    EXPECT_LE(*size, off + (round == 0 ? 64 << 10 : o.prezero_ahead)) << round;
    EXPECT_EQ((*a)->Size(), off);
  }
  std::string got(off, '\0');
  ASSERT_TRUE((*a)->ReadAt(0, off, got.data()).ok());
  EXPECT_EQ(got, Bytes(0, off));
  // What a crash leaves: data, then zeros.
  std::string image;
  {
    auto f = fs->OpenFile(seg, false);
    ASSERT_TRUE(f.ok());
    image.resize((*f)->Size());
    size_t n = 0;
    ASSERT_TRUE((*f)->ReadAt(0, image.size(), image.data(), &n).ok());
    image.resize(n);
  }
  ASSERT_GT(image.size(), off);
  EXPECT_EQ(image.substr(0, off), Bytes(0, off));
  EXPECT_EQ(image.find_first_not_of('\0', off), std::string::npos);
  ASSERT_TRUE((*a)->Close().ok());
  EXPECT_EQ(*fs->GetFileSize(seg), off);
  // Reopened, the stream ends at the data.
  auto b = Appendable::Open(fs, dir, o);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ((*b)->Size(), off);
}

}  // namespace
}  // namespace immudb

namespace immudb {
namespace {

// PunchHole across segment boundaries: the range reads as zeros, the
// stream keeps its size and bytes around it; only flushed bytes may go.
TEST(AppendablePunchHoleTest, RangeReadsZerosAcrossSegmentsAndOnlyFlushedBytesGo) {
  auto fs = NewMemFileSystem();
  ASSERT_TRUE(fs->CreateDir("/db").ok());
  auto a = Appendable::Open(fs.get(), "/db/p", SmallOpts(100, 64));
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE((*a)->Append(Bytes(0, 450)).ok());
  ASSERT_TRUE((*a)->Flush().ok());
  ASSERT_TRUE((*a)->Append(Bytes(450, 20)).ok());  // Still buffered.
  ASSERT_TRUE((*a)->PunchHole(90, 250).ok());
  std::string s(470, '\0');
  ASSERT_TRUE((*a)->ReadAt(0, s.size(), s.data()).ok());
  std::string want = Bytes(0, 470);
  std::fill(want.begin() + 90, want.begin() + 340, '\0');
  EXPECT_EQ(s, want);
  EXPECT_EQ((*a)->Size(), 470u);
  EXPECT_TRUE((*a)->PunchHole(440, 20).IsInvalidArgument());
  ASSERT_TRUE((*a)->ReadAt(440, 30, s.data()).ok());
  EXPECT_EQ(s.substr(0, 30), Bytes(440, 30));
}

// On the real file system the blocks are given back.
TEST(AppendablePunchHoleTest, PosixGivesBlocksBack) {
  testutil::TempDir tmp;
  FileSystem* fs = FileSystem::Default();
  AppendableOptions o = SmallOpts(1 << 20, 0);
  auto a = Appendable::Open(fs, tmp.Sub("p"), o);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE((*a)->Append(Bytes(0, 3 << 20)).ok());
  ASSERT_TRUE((*a)->Sync().ok());
  auto on_disk = [&](int seg) {
    struct stat st {};
    const std::string p = tmp.Sub("p") + "/0000000" + std::to_string(seg) + ".dat";
    EXPECT_EQ(::stat(p.c_str(), &st), 0);
    return static_cast<uint64_t>(st.st_blocks) * 512;
  };
  const uint64_t before = on_disk(1);
  // Segment 1 holds [1 MiB, 2 MiB): punch all of it and a block on each side.
  ASSERT_TRUE((*a)->PunchHole((1 << 20) - 4096, (1 << 20) + 8192).ok());
  EXPECT_GE(before, 1u << 20);
  EXPECT_EQ(on_disk(1), 0u);
  EXPECT_EQ((*a)->Size(), 3u << 20);
  std::string s(8192, 'x');
  ASSERT_TRUE((*a)->ReadAt((2 << 20) + 4096, s.size(), s.data()).ok());
  EXPECT_EQ(s, Bytes((2 << 20) + 4096, 8192));
  ASSERT_TRUE((*a)->ReadAt((2 << 20) - 100, 200, s.data()).ok());
  EXPECT_EQ(s.substr(0, 200), std::string(200, '\0'));
}

}  // namespace
}  // namespace immudb
