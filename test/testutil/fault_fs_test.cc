#include "testutil/fault_fs.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "immudb/env.h"
#include "testutil/test_util.h"

namespace immudb::testutil {
namespace {

class FaultFsTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (GetParam()) {
      base_ = FileSystem::Default();
      root_ = tmp_.path();
    } else {
      mem_ = NewMemFileSystem();
      base_ = mem_.get();
      root_ = "/mem";
      ASSERT_TRUE(base_->CreateDir(root_).ok());
    }
    fs_ = std::make_unique<FaultInjectionFileSystem>(base_);
  }
  std::string P(const std::string& name) const { return root_ + "/" + name; }
  std::string Contents(const std::string& path) {
    auto r = ReadFileToString(base_, path);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : "";
  }
  std::unique_ptr<File> Open(const std::string& name) {
    auto r = fs_->OpenFile(P(name), true);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : nullptr;
  }

  TempDir tmp_;
  std::unique_ptr<FileSystem> mem_;
  FileSystem* base_ = nullptr;
  std::string root_;
  std::unique_ptr<FaultInjectionFileSystem> fs_;
};

TEST_P(FaultFsTest, DropKeepsOnlySyncedBytes) {
  auto f = Open("a");
  ASSERT_TRUE(f->Append("durable").ok());
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(fs_->SyncDir(root_).ok());
  ASSERT_TRUE(f->Append("-volatile").ok());
  EXPECT_EQ(fs_->SyncedSize(P("a")), 7u);
  f.reset();
  ASSERT_TRUE(fs_->DropUnsyncedData().ok());
  EXPECT_EQ(Contents(P("a")), "durable");
}

TEST_P(FaultFsTest, NewFileWithoutDirectorySyncDisappears) {
  auto f = Open("new");
  ASSERT_TRUE(f->Append("x").ok());
  ASSERT_TRUE(f->Sync().ok());
  auto g = Open("kept");
  ASSERT_TRUE(g->Append("y").ok());
  ASSERT_TRUE(g->Sync().ok());
  f.reset();
  g.reset();
  ASSERT_TRUE(fs_->DropUnsyncedData().ok());
  EXPECT_FALSE(base_->FileExists(P("new")));
  EXPECT_FALSE(base_->FileExists(P("kept")));

  g = Open("kept");
  ASSERT_TRUE(g->Append("y").ok());
  ASSERT_TRUE(g->Sync().ok());
  ASSERT_TRUE(fs_->SyncDir(root_ + "/").ok());
  g.reset();
  ASSERT_TRUE(fs_->DropUnsyncedData().ok());
  EXPECT_EQ(Contents(P("kept")), "y");
}

TEST_P(FaultFsTest, PreexistingFilesCountAsDurable) {
  {
    auto f = base_->OpenFile(P("old"), true);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->Append("before").ok());
  }
  auto f = Open("old");
  ASSERT_TRUE(f->Append("after").ok());
  f.reset();
  ASSERT_TRUE(fs_->DropUnsyncedData().ok());
  EXPECT_EQ(Contents(P("old")), "before");
}

TEST_P(FaultFsTest, TearKeepsEarlierWritesAndAPrefixOfTheLast) {
  for (uint64_t seed = 1; seed <= 20; seed++) {
    const std::string name = "t" + std::to_string(seed);
    auto f = Open(name);
    ASSERT_TRUE(f->Append("SYNC").ok());
    ASSERT_TRUE(f->Sync().ok());
    ASSERT_TRUE(fs_->SyncDir(root_).ok());
    ASSERT_TRUE(f->Append("early").ok());
    ASSERT_TRUE(f->Append("LASTWRITE").ok());
    f.reset();
    DropOptions opts;
    opts.tear_last_write = true;
    opts.seed = seed;
    ASSERT_TRUE(fs_->DropUnsyncedData(opts).ok());
    const std::string c = Contents(P(name));
    ASSERT_GE(c.size(), 9u);
    ASSERT_LT(c.size(), 18u);
    EXPECT_EQ(c, std::string("SYNCearlyLASTWRITE").substr(0, c.size()));
  }
}

TEST_P(FaultFsTest, TearWithGarbageKeepsSyncedBytesIntact) {
  bool saw_garbage = false;
  for (uint64_t seed = 1; seed <= 20; seed++) {
    const std::string name = "g" + std::to_string(seed);
    auto f = Open(name);
    ASSERT_TRUE(f->Append("SYNCED").ok());
    ASSERT_TRUE(f->Sync().ok());
    ASSERT_TRUE(fs_->SyncDir(root_).ok());
    ASSERT_TRUE(f->Append(std::string(32, 'w')).ok());
    f.reset();
    DropOptions opts;
    opts.tear_last_write = opts.garbage = true;
    opts.seed = seed;
    ASSERT_TRUE(fs_->DropUnsyncedData(opts).ok());
    const std::string c = Contents(P(name));
    ASSERT_GT(c.size(), 6u);
    ASSERT_LE(c.size(), 38u);
    EXPECT_EQ(c.substr(0, 6), "SYNCED");
    if (c.substr(6) != std::string(c.size() - 6, 'w')) saw_garbage = true;
  }
  EXPECT_TRUE(saw_garbage);
}

TEST_P(FaultFsTest, PowerCutFailsEveryOperationUntilReactivated) {
  auto f = Open("p");
  ASSERT_TRUE(f->Append("abc").ok());
  fs_->SetActive(false);
  EXPECT_FALSE(fs_->active());
  char buf[3];
  size_t got;
  EXPECT_TRUE(f->Append("d").IsIOError());
  EXPECT_TRUE(f->Sync().IsIOError());
  EXPECT_TRUE(f->Truncate(1).IsIOError());
  EXPECT_TRUE(f->ReadAt(0, 3, buf, &got).IsIOError());
  EXPECT_TRUE(f->Close().IsIOError());
  EXPECT_TRUE(fs_->OpenFile(P("q"), true).status().IsIOError());
  EXPECT_TRUE(fs_->SyncDir(root_).IsIOError());
  EXPECT_TRUE(fs_->GetChildren(root_).status().IsIOError());
  EXPECT_TRUE(fs_->Rename(P("p"), P("r")).IsIOError());
  EXPECT_TRUE(fs_->RemoveFile(P("p")).IsIOError());
  EXPECT_TRUE(fs_->CreateDir(P("d")).IsIOError());
  EXPECT_TRUE(fs_->LockFile(P("LOCK")).status().IsIOError());
  EXPECT_FALSE(fs_->FileExists(P("p")));
  fs_->SetActive(true);
  EXPECT_TRUE(fs_->OpenFile(P("p"), false).ok());
}

TEST_P(FaultFsTest, FailNthAppendFailsOnlyThatCall) {
  auto f = Open("n");
  fs_->FailNth(FaultOp::kAppend, 2);
  EXPECT_TRUE(f->Append("1").ok());
  Status s = f->Append("2");
  EXPECT_TRUE(s.IsIOError());
  EXPECT_NE(s.message().find(P("n")), std::string::npos) << s.ToString();
  EXPECT_TRUE(f->Append("3").ok());
  EXPECT_EQ(fs_->OpCount(FaultOp::kAppend), 3u);
  EXPECT_EQ(f->Size(), 2u);
}

TEST_P(FaultFsTest, PersistentFaultKeepsFailingAndClearStopsIt) {
  auto f = Open("n");
  fs_->FailNth(FaultOp::kSync, 1, FaultKind::kIOError, /*persistent=*/true);
  EXPECT_FALSE(f->Sync().ok());
  EXPECT_FALSE(f->Sync().ok());
  fs_->ClearFaults();
  EXPECT_TRUE(f->Sync().ok());
}

TEST_P(FaultFsTest, NoSpaceLooksLikeEnospc) {
  auto f = Open("n");
  fs_->FailNth(FaultOp::kAppend, 1, FaultKind::kNoSpace);
  Status s = f->Append("data");
  EXPECT_TRUE(s.IsIOError());
  EXPECT_NE(s.message().find("No space left on device"), std::string::npos) << s.ToString();
  EXPECT_EQ(f->Size(), 0u);
}

TEST_P(FaultFsTest, ShortWriteWritesAPrefixThenFails) {
  auto f = Open("s");
  fs_->FailNth(FaultOp::kAppend, 1, FaultKind::kShortWrite);
  EXPECT_TRUE(f->Append("0123456789").IsIOError());
  EXPECT_EQ(f->Size(), 5u);
  f.reset();
  EXPECT_EQ(Contents(P("s")), "01234");
}

TEST_P(FaultFsTest, FailedSyncLeavesDataVolatile) {
  auto f = Open("v");
  ASSERT_TRUE(fs_->SyncDir(root_).ok());
  ASSERT_TRUE(f->Append("abc").ok());
  fs_->FailNth(FaultOp::kSync, 1);
  EXPECT_FALSE(f->Sync().ok());
  EXPECT_EQ(fs_->SyncedSize(P("v")), 0u);
  f.reset();
  ASSERT_TRUE(fs_->DropUnsyncedData().ok());
  EXPECT_EQ(Contents(P("v")), "");
}

TEST_P(FaultFsTest, FailNthOpenRenameAndSyncDir) {
  fs_->FailNth(FaultOp::kOpenFile, 1);
  EXPECT_FALSE(fs_->OpenFile(P("o"), true).ok());
  EXPECT_FALSE(base_->FileExists(P("o")));
  ASSERT_NE(Open("o"), nullptr);
  fs_->FailNth(FaultOp::kRename, 1);
  EXPECT_FALSE(fs_->Rename(P("o"), P("o2")).ok());
  EXPECT_TRUE(base_->FileExists(P("o")));
  fs_->FailNth(FaultOp::kSyncDir, 1);
  EXPECT_FALSE(fs_->SyncDir(root_).ok());
  EXPECT_TRUE(fs_->SyncDir(root_).ok());
}

TEST_P(FaultFsTest, TruncateLowersTheSyncedSize) {
  auto f = Open("c");
  ASSERT_TRUE(fs_->SyncDir(root_).ok());
  ASSERT_TRUE(f->Append("0123456789").ok());
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(f->Truncate(4).ok());
  ASSERT_TRUE(f->Append("xx").ok());
  EXPECT_EQ(fs_->SyncedSize(P("c")), 4u);
  f.reset();
  ASSERT_TRUE(fs_->DropUnsyncedData().ok());
  EXPECT_EQ(Contents(P("c")), "0123");
}

TEST_P(FaultFsTest, UnsyncedRenameIsUndoneAndTheOldFileRestored) {
  ASSERT_TRUE(WriteFileAtomic(fs_.get(), P("CURRENT"), "v1").ok());
  // The steps of WriteFileAtomic, stopping before the directory sync.
  auto f = Open("CURRENT.tmp");
  ASSERT_TRUE(f->Append("v2").ok());
  ASSERT_TRUE(f->Sync().ok());
  f.reset();
  ASSERT_TRUE(fs_->Rename(P("CURRENT.tmp"), P("CURRENT")).ok());
  EXPECT_EQ(Contents(P("CURRENT")), "v2");
  ASSERT_TRUE(fs_->DropUnsyncedData().ok());
  EXPECT_EQ(Contents(P("CURRENT")), "v1");
  EXPECT_FALSE(base_->FileExists(P("CURRENT.tmp")));

  ASSERT_TRUE(WriteFileAtomic(fs_.get(), P("CURRENT"), "v3").ok());
  ASSERT_TRUE(fs_->DropUnsyncedData().ok());
  EXPECT_EQ(Contents(P("CURRENT")), "v3");
}

TEST_P(FaultFsTest, UnsyncedRenameOfDurableFileGoesBackToItsOldName) {
  auto f = Open("from");
  ASSERT_TRUE(f->Append("data").ok());
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(fs_->SyncDir(root_).ok());
  f.reset();
  ASSERT_TRUE(fs_->Rename(P("from"), P("to")).ok());
  ASSERT_TRUE(fs_->DropUnsyncedData().ok());
  EXPECT_FALSE(base_->FileExists(P("to")));
  EXPECT_EQ(Contents(P("from")), "data");
}

INSTANTIATE_TEST_SUITE_P(OverPosixAndMem, FaultFsTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Posix" : "Mem";
                         });

}  // namespace
}  // namespace immudb::testutil
