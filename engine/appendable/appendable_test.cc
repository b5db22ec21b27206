#include "appendable/appendable.h"

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "immudb/env.h"
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
  while (off < kTotal) {
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
