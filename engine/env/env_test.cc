// One suite run against every FileSystem implementation.
#include "immudb/env.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <ctime>
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

TEST_P(FileSystemTest, PunchHoleZerosTheRangeAndKeepsTheSize) {
  auto f = fs_->OpenFile(P("h"), true);
  ASSERT_TRUE(f.ok());
  const std::string data(3 * 4096, 'd');
  ASSERT_TRUE((*f)->Append(data).ok());
  ASSERT_TRUE((*f)->PunchHole(4096, 4096).ok());
  // Past the end: nothing to discard, the size stays.
  ASSERT_TRUE((*f)->PunchHole(5 * 4096, 10).ok());
  EXPECT_EQ((*f)->Size(), data.size());
  std::string want = data;
  std::fill(want.begin() + 4096, want.begin() + 2 * 4096, '\0');
  EXPECT_EQ(ReadAll(**f), want);
  ASSERT_TRUE((*f)->Append("e").ok());
  EXPECT_EQ(ReadAll(**f), want + "e");
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

// Appends `records` records of 16 bytes while two threads read the last one
// Size() reports; with `zero_ahead`, Prezero keeps zeros 10000 records ahead
// of the data (as the group commit's syncs do) and appends may be mapped.
void CheckReadersSeeOnlyWrittenBytes(File* f, int records, bool zero_ahead) {
  constexpr size_t kLen = 16;
  if (zero_ahead) f->MapAppends(true);
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
          buf[0] != static_cast<char>('a' + rec % 26) ||
          buf[kLen - 1] != static_cast<char>('a' + rec % 26)) {
        bad++;
      }
    }
  };
  std::thread r1(reader), r2(reader);
  for (int i = 0; i < records; i++) {
    if (zero_ahead && i % 5000 == 0) {
      ASSERT_TRUE(f->Prezero((i + 10000) * kLen).ok());
    }
    ASSERT_TRUE(f->Append(std::string(kLen, static_cast<char>('a' + i % 26))).ok());
  }
  done = true;
  r1.join();
  r2.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(f->Size(), records * kLen);
}

TEST_P(FileSystemTest, ConcurrentReadersSeeOnlyWrittenBytes) {
  auto fr = fs_->OpenFile(P("c"), true);
  ASSERT_TRUE(fr.ok());
  CheckReadersSeeOnlyWrittenBytes(fr->get(), 2000, /*zero_ahead=*/false);
}

TEST_P(FileSystemTest, ConcurrentReadersSeeOnlyWrittenBytesOverZeros) {
  auto fr = fs_->OpenFile(P("cz"), true);
  ASSERT_TRUE(fr.ok());
  CheckReadersSeeOnlyWrittenBytes(fr->get(), 40000, /*zero_ahead=*/true);
}

// A deterministic byte pattern: record i is `len` bytes of 'A' + i % 26 with
// its index in front, so a misplaced or lost record shows in the content.
std::string Record(int i, size_t len) {
  std::string r = std::to_string(i) + ":";
  r.resize(std::max(len, r.size()), static_cast<char>('A' + i % 26));
  return r;
}

TEST_P(FileSystemTest, AppendsOverwritePrezeroedSpaceAndCloseCutsTheRest) {
  auto fr = fs_->OpenFile(P("z"), true);
  ASSERT_TRUE(fr.ok());
  File* f = fr->get();
  f->MapAppends(true);
  ASSERT_TRUE(f->Append("head").ok());
  // Zeros past several 256 KiB boundaries; appends then land in them, cross
  // the boundaries and finally run past the zeros.
  constexpr uint64_t kZeroTo = 700 << 10;
  ASSERT_TRUE(f->Prezero(kZeroTo).ok());
  EXPECT_EQ(f->Size(), 4u);  // Zeros are not data.
  std::string want = "head";
  int i = 0;
  while (want.size() < kZeroTo + (100 << 10)) {
    const std::string r = Record(i, 1 + (i * 7919) % 5000);
    ASSERT_TRUE(f->Append(r).ok()) << i;
    want += r;
    ASSERT_EQ(f->Size(), want.size());
    i++;
  }
  EXPECT_EQ(ReadAll(*f), want);
  // A second handle reads the same bytes (what a process killed now leaves).
  {
    auto g = fs_->OpenFile(P("z"), false);
    ASSERT_TRUE(g.ok());
    std::string got(want.size(), '\0');
    size_t n = 0;
    ASSERT_TRUE((*g)->ReadAt(0, got.size(), got.data(), &n).ok());
    EXPECT_EQ(n, want.size());
    EXPECT_TRUE(got == want);
  }
  // Zeros again past the data, a cut back into mapped data, appends after it.
  ASSERT_TRUE(f->Prezero(want.size() + (300 << 10)).ok());
  ASSERT_TRUE(f->Append("tail").ok());
  want += "tail";
  ASSERT_TRUE(f->Truncate(300000).ok());
  want.resize(300000);
  ASSERT_TRUE(f->Append("after-cut").ok());
  want += "after-cut";
  EXPECT_EQ(ReadAll(*f), want);
  ASSERT_TRUE(f->Prezero(want.size() + (64 << 10)).ok());
  ASSERT_TRUE(f->Append("x").ok());
  want += "x";
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(f->Close().ok());
  auto size = fs_->GetFileSize(P("z"));
  ASSERT_TRUE(size.ok());
  // Close cut the zeros never overwritten.
  EXPECT_EQ(*size, want.size());
  auto g = fs_->OpenFile(P("z"), false);
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(ReadAll(**g) == want);
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

// Reads do not update the access time: under relatime (the usual mount
// option) a read of a file whose access time is more than a day old sets it.
TEST(PosixFileSystemTest, ReadsLeaveTheAccessTimeAlone) {
  testutil::TempDir tmp;
  const std::string path = tmp.Sub("f");
  ASSERT_TRUE(WriteFileAtomic(FileSystem::Default(), path, "some bytes").ok());
  struct timespec times[2];
  times[0].tv_sec = ::time(nullptr) - 3 * 86400;  // Access time: three days ago.
  times[0].tv_nsec = 0;
  times[1].tv_sec = 0;
  times[1].tv_nsec = UTIME_OMIT;  // Modification time: as it is.
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  {
    auto f = FileSystem::Default()->OpenFile(path, /*create=*/false);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    EXPECT_EQ(ReadAll(**f), "some bytes");
    auto m = FileSystem::Default()->MapReadOnly(path, 0, 4);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ(std::string((*m)->data(), 4), "some");
  }
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_atim.tv_sec, times[0].tv_sec);
}

// Only a file's owner may open it without access-time updates; anyone else
// who may read it still opens it.
TEST(PosixFileSystemTest, OpensForReadingFilesOfOtherOwners) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to hand the file to another user";
  testutil::TempDir tmp;
  const std::string path = tmp.Sub("theirs");
  ASSERT_TRUE(WriteFileAtomic(FileSystem::Default(), path, "their bytes").ok());
  ASSERT_EQ(::chmod(tmp.path().c_str(), 0755), 0);
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  ASSERT_EQ(::chown(path.c_str(), 12345, 12345), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The child reads as user and group 65534 ("nobody"), neither the owner
    // nor privileged.
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(3);
    auto m = FileSystem::Default()->MapReadOnly(path, 0, 5);
    if (!m.ok()) ::_exit(1);
    ::_exit(std::string((*m)->data(), 5) == "their" ? 0 : 2);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: open failed, 2: wrong bytes, 3: setuid failed";
}

// Appends into zero-filled space are in the page cache when Append returns:
// a process killed right after (no Close, no Sync) leaves them in the file.
TEST(PosixFileSystemTest, AppendsOverZerosSurviveSigkill) {
  testutil::TempDir tmp;
  const std::string path = tmp.Sub("k");
  std::string want;
  for (int i = 0; i < 3000; i++) want += Record(i, 100);
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto f = FileSystem::Default()->OpenFile(path, true);
    if (f.ok()) (*f)->MapAppends(true);
    if (!f.ok() || !(*f)->Append("x").ok() || !(*f)->Prezero(1 << 20).ok()) _exit(2);
    for (int i = 0; i < 3000; i++) {
      if (!(*f)->Append(Record(i, 100)).ok()) _exit(3);
    }
    if (write(ready[1], "k", 1) != 1) _exit(4);
    for (;;) pause();
  }
  close(ready[1]);
  char c = 0;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  close(ready[0]);
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  int st = 0;
  ASSERT_EQ(waitpid(pid, &st, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(st));
  auto f = FileSystem::Default()->OpenFile(path, false);
  ASSERT_TRUE(f.ok());
  // The file still ends in the zeros the killed process never cut.
  EXPECT_EQ((*f)->Size(), 1u << 20);
  std::string got(1 + want.size(), '\0');
  size_t n = 0;
  ASSERT_TRUE((*f)->ReadAt(0, got.size(), got.data(), &n).ok());
  ASSERT_EQ(n, got.size());
  EXPECT_TRUE(got == "x" + want);
}

}  // namespace
}  // namespace immudb
