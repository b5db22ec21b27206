// One suite run against every FileSystem implementation.
#include "immudb/env.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "testutil/test_util.h"

namespace immudb {
namespace {

enum class FsKind { kPosix, kMem };

class FileSystemTest : public ::testing::TestWithParam<FsKind> {
 protected:
  void SetUp() override {
    if (GetParam() == FsKind::kPosix) {
      fs_ = FileSystem::Default();
      root_ = tmp_.path();
    } else {
      mem_ = NewMemFileSystem();
      fs_ = mem_.get();
      root_ = "/mem";
      ASSERT_TRUE(fs_->CreateDir(root_).ok());
    }
  }
  std::string P(const std::string& name) const { return root_ + "/" + name; }

  testutil::TempDir tmp_;
  std::unique_ptr<FileSystem> mem_;
  FileSystem* fs_ = nullptr;
  std::string root_;
};

std::string ReadAll(const File& f) {
  std::string out(f.Size(), '\0');
  size_t got = 0;
  EXPECT_TRUE(f.ReadAt(0, out.size(), out.data(), &got).ok());
  out.resize(got);
  return out;
}

TEST_P(FileSystemTest, OpenMissingFileWithoutCreateIsNotFound) {
  auto r = fs_->OpenFile(P("nope"), /*create=*/false);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsNotFound()) << r.status().ToString();
  EXPECT_NE(r.status().message().find("nope"), std::string::npos);
}

TEST_P(FileSystemTest, AppendReadSizeAndReopen) {
  {
    auto f = fs_->OpenFile(P("a"), true);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    EXPECT_EQ((*f)->Size(), 0u);
    ASSERT_TRUE((*f)->Append("hello ").ok());
    ASSERT_TRUE((*f)->Append("world").ok());
    EXPECT_EQ((*f)->Size(), 11u);
    char buf[5];
    size_t got = 0;
    ASSERT_TRUE((*f)->ReadAt(6, 5, buf, &got).ok());
    EXPECT_EQ(std::string(buf, got), "world");
    // Short read at end of file, empty read past it.
    ASSERT_TRUE((*f)->ReadAt(9, 5, buf, &got).ok());
    EXPECT_EQ(std::string(buf, got), "ld");
    ASSERT_TRUE((*f)->ReadAt(100, 5, buf, &got).ok());
    EXPECT_EQ(got, 0u);
    ASSERT_TRUE((*f)->Sync().ok());
    ASSERT_TRUE((*f)->Close().ok());
  }
  auto f = fs_->OpenFile(P("a"), false);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ((*f)->Size(), 11u);
  // Appends go to the end of an existing file.
  ASSERT_TRUE((*f)->Append("!").ok());
  EXPECT_EQ(ReadAll(**f), "hello world!");
  auto size = fs_->GetFileSize(P("a"));
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, 12u);
}

TEST_P(FileSystemTest, TruncateCutsAndLaterAppendsFollowTheCut) {
  auto f = fs_->OpenFile(P("t"), true);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("0123456789").ok());
  ASSERT_TRUE((*f)->Truncate(4).ok());
  EXPECT_EQ((*f)->Size(), 4u);
  ASSERT_TRUE((*f)->Append("xy").ok());
  EXPECT_EQ(ReadAll(**f), "0123xy");
  EXPECT_EQ(*fs_->GetFileSize(P("t")), 6u);
}

TEST_P(FileSystemTest, DirectoriesChildrenRemoveAndRename) {
  ASSERT_TRUE(fs_->CreateDir(P("d/e/f")).ok());
  ASSERT_TRUE(fs_->CreateDir(P("d/e/f")).ok());  // Already exists: OK.
  EXPECT_TRUE(fs_->FileExists(P("d/e")));
  ASSERT_TRUE(fs_->OpenFile(P("d/x"), true).ok());
  ASSERT_TRUE(fs_->OpenFile(P("d/y"), true).ok());
  auto kids = fs_->GetChildren(P("d"));
  ASSERT_TRUE(kids.ok());
  std::sort(kids->begin(), kids->end());
  EXPECT_EQ(*kids, (std::vector<std::string>{"e", "x", "y"}));
  ASSERT_TRUE(fs_->SyncDir(P("d")).ok());

  ASSERT_TRUE(fs_->Rename(P("d/x"), P("d/y")).ok());
  EXPECT_FALSE(fs_->FileExists(P("d/x")));
  EXPECT_TRUE(fs_->FileExists(P("d/y")));
  EXPECT_TRUE(fs_->Rename(P("d/nope"), P("d/z")).IsNotFound());

  ASSERT_TRUE(fs_->RemoveFile(P("d/y")).ok());
  EXPECT_FALSE(fs_->FileExists(P("d/y")));
  EXPECT_TRUE(fs_->RemoveFile(P("d/y")).IsNotFound());
  EXPECT_FALSE(fs_->RemoveDir(P("d/e")).ok());  // Not empty.
  ASSERT_TRUE(fs_->RemoveDir(P("d/e/f")).ok());
  ASSERT_TRUE(fs_->RemoveDir(P("d/e")).ok());
  EXPECT_FALSE(fs_->FileExists(P("d/e")));
  EXPECT_FALSE(fs_->GetChildren(P("missing")).ok());
  EXPECT_TRUE(fs_->GetFileSize(P("missing")).status().IsNotFound());
}

TEST_P(FileSystemTest, OpenInMissingDirectoryFails) {
  EXPECT_FALSE(fs_->OpenFile(P("no/such/dir/file"), true).ok());
}

TEST_P(FileSystemTest, OpenFileSurvivesRemove) {
  auto f = fs_->OpenFile(P("r"), true);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("abc").ok());
  ASSERT_TRUE(fs_->RemoveFile(P("r")).ok());
  EXPECT_EQ(ReadAll(**f), "abc");
}

TEST_P(FileSystemTest, LockIsExclusiveUntilReleased) {
  auto l1 = fs_->LockFile(P("LOCK"));
  ASSERT_TRUE(l1.ok()) << l1.status().ToString();
  auto l2 = fs_->LockFile(P("LOCK"));
  ASSERT_FALSE(l2.ok());
  EXPECT_EQ(l2.status().code(), StatusCode::kUnavailable);
  l1->reset();
  auto l3 = fs_->LockFile(P("LOCK"));
  EXPECT_TRUE(l3.ok()) << l3.status().ToString();
}

TEST_P(FileSystemTest, WriteFileAtomicReplacesAndReadFileToStringReadsBack) {
  ASSERT_TRUE(WriteFileAtomic(fs_, P("state"), "first version").ok());
  ASSERT_TRUE(WriteFileAtomic(fs_, P("state"), "v2").ok());
  auto s = ReadFileToString(fs_, P("state"));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, "v2");
  EXPECT_FALSE(fs_->FileExists(P("state.tmp")));
  EXPECT_TRUE(ReadFileToString(fs_, P("none")).status().IsNotFound());
}

TEST_P(FileSystemTest, ConcurrentReadersSeeOnlyWrittenBytes) {
  auto fr = fs_->OpenFile(P("c"), true);
  ASSERT_TRUE(fr.ok());
  File* f = fr->get();
  constexpr int kRecords = 2000;
  constexpr size_t kLen = 16;
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  auto reader = [&] {
    char buf[kLen];
    while (!done.load()) {
      const uint64_t size = f->Size();
      if (size < kLen) continue;
      const uint64_t rec = (size / kLen) - 1;
      size_t got = 0;
      if (!f->ReadAt(rec * kLen, kLen, buf, &got).ok() || got != kLen ||
          buf[0] != static_cast<char>('a' + rec % 26)) {
        bad++;
      }
    }
  };
  std::thread r1(reader), r2(reader);
  for (int i = 0; i < kRecords; i++) {
    ASSERT_TRUE(f->Append(std::string(kLen, static_cast<char>('a' + i % 26))).ok());
  }
  done = true;
  r1.join();
  r2.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(f->Size(), kRecords * kLen);
}

INSTANTIATE_TEST_SUITE_P(AllFileSystems, FileSystemTest,
                         ::testing::Values(FsKind::kPosix, FsKind::kMem),
                         [](const ::testing::TestParamInfo<FsKind>& info) {
                           return info.param == FsKind::kPosix ? "Posix" : "Mem";
                         });

TEST(PosixFileSystemTest, ErrorsNameThePath) {
  testutil::TempDir tmp;
  Status s = FileSystem::Default()->RemoveFile(tmp.Sub("ghost"));
  EXPECT_TRUE(s.IsNotFound());
  EXPECT_NE(s.message().find(tmp.Sub("ghost")), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("No such file"), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace immudb
