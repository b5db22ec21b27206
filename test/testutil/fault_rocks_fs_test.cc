// The RocksDB power-loss file system keeps exactly what its durability model
// says: synced bytes of files whose directory entry was synced, the entries
// of the last directory sync, and nothing else.
#include "testutil/fault_rocks_fs.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>

#include <filesystem>
#include <memory>
#include <string>

#include "testutil/test_util.h"

namespace immudb::testutil {
namespace {

using rocksdb::IOOptions;

class FaultRocksFsTest : public ::testing::Test {
 protected:
  FaultRocksFsTest() : dir_(tmp_.Sub("data")), trash_(tmp_.Sub("trash")) {
    std::filesystem::create_directories(dir_);
    std::filesystem::create_directories(trash_);
    fs_ = std::make_shared<FaultInjectionRocksFs>(rocksdb::FileSystem::Default(), trash_);
  }

  // Writes `data` to a new file `name` and syncs it when `sync`.
  void Write(const std::string& name, const std::string& data, bool sync) {
    std::unique_ptr<rocksdb::FSWritableFile> f;
    ASSERT_TRUE(fs_->NewWritableFile(Path(name), rocksdb::FileOptions(), &f, nullptr).ok());
    ASSERT_TRUE(f->Append(data, IOOptions(), nullptr).ok());
    if (sync) {
      ASSERT_TRUE(f->Sync(IOOptions(), nullptr).ok());
    }
    ASSERT_TRUE(f->Close(IOOptions(), nullptr).ok());
  }
  void SyncDir() {
    std::unique_ptr<rocksdb::FSDirectory> d;
    ASSERT_TRUE(fs_->NewDirectory(dir_, IOOptions(), &d, nullptr).ok());
    ASSERT_TRUE(d->FsyncWithDirOptions(IOOptions(), nullptr, rocksdb::DirFsyncOptions()).ok());
  }
  void Cut(const DropOptions& o = {}) {
    fs_->SetActive(false);
    ASSERT_TRUE(fs_->DropUnsyncedData(o).ok());
    fs_->SetActive(true);
  }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  std::string Read(const std::string& name) const { return ReadAll(Path(name)); }
  bool Exists(const std::string& name) const { return std::filesystem::exists(Path(name)); }

  TempDir tmp_;
  std::string dir_, trash_;
  std::shared_ptr<FaultInjectionRocksFs> fs_;
};

TEST_F(FaultRocksFsTest, UnsyncedBytesAndUnsyncedEntriesAreLost) {
  Write("synced", "durable", true);
  SyncDir();
  {
    std::unique_ptr<rocksdb::FSWritableFile> f;
    ASSERT_TRUE(fs_->ReopenWritableFile(Path("synced"), rocksdb::FileOptions(), &f, nullptr).ok());
    ASSERT_TRUE(f->Append("+volatile", IOOptions(), nullptr).ok());
    ASSERT_TRUE(f->RangeSync(0, 16, IOOptions(), nullptr).ok());  // Not a durability point.
    ASSERT_TRUE(f->Close(IOOptions(), nullptr).ok());
  }
  Write("no-dir-sync", "synced bytes, volatile entry", true);
  EXPECT_EQ(Read("synced"), "durable+volatile");
  Cut();
  EXPECT_EQ(Read("synced"), "durable");
  EXPECT_FALSE(Exists("no-dir-sync"));
}

TEST_F(FaultRocksFsTest, DirectorySyncMakesEntriesDurable) {
  Write("a", "aaaa", true);
  Write("b", "bbbb", false);
  SyncDir();
  Cut();
  EXPECT_EQ(Read("a"), "aaaa");
  EXPECT_TRUE(Exists("b"));
  EXPECT_EQ(Read("b"), "");  // Its entry is durable, its bytes were never synced.
}

TEST_F(FaultRocksFsTest, UnsyncedRenameAndDeleteAreUndone) {
  Write("CURRENT", "MANIFEST-1\n", true);
  Write("gone", "kept until the directory sync", true);
  SyncDir();
  Write("CURRENT.tmp", "MANIFEST-2\n", true);
  ASSERT_TRUE(fs_->RenameFile(Path("CURRENT.tmp"), Path("CURRENT"), IOOptions(), nullptr).ok());
  ASSERT_TRUE(fs_->DeleteFile(Path("gone"), IOOptions(), nullptr).ok());
  EXPECT_EQ(Read("CURRENT"), "MANIFEST-2\n");
  EXPECT_FALSE(Exists("gone"));
  Cut();
  EXPECT_EQ(Read("CURRENT"), "MANIFEST-1\n");
  EXPECT_FALSE(Exists("CURRENT.tmp"));
  EXPECT_EQ(Read("gone"), "kept until the directory sync");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(trash_),
                          std::filesystem::directory_iterator()),
            0);
}

TEST_F(FaultRocksFsTest, SyncedRenameAndDeleteStay) {
  Write("CURRENT", "MANIFEST-1\n", true);
  Write("gone", "x", true);
  SyncDir();
  Write("CURRENT.tmp", "MANIFEST-2\n", true);
  ASSERT_TRUE(fs_->RenameFile(Path("CURRENT.tmp"), Path("CURRENT"), IOOptions(), nullptr).ok());
  ASSERT_TRUE(fs_->DeleteFile(Path("gone"), IOOptions(), nullptr).ok());
  SyncDir();
  Cut();
  EXPECT_EQ(Read("CURRENT"), "MANIFEST-2\n");
  EXPECT_FALSE(Exists("CURRENT.tmp"));
  EXPECT_FALSE(Exists("gone"));
}

TEST_F(FaultRocksFsTest, TornWriteKeepsEarlierUnsyncedWritesAndAPrefixOfTheLast) {
  Write("log", "", true);
  SyncDir();
  std::unique_ptr<rocksdb::FSWritableFile> f;
  ASSERT_TRUE(fs_->ReopenWritableFile(Path("log"), rocksdb::FileOptions(), &f, nullptr).ok());
  ASSERT_TRUE(f->Append("synced|", IOOptions(), nullptr).ok());
  ASSERT_TRUE(f->Sync(IOOptions(), nullptr).ok());
  ASSERT_TRUE(f->Append("first|", IOOptions(), nullptr).ok());
  ASSERT_TRUE(f->Append("0123456789", IOOptions(), nullptr).ok());
  ASSERT_TRUE(f->Close(IOOptions(), nullptr).ok());
  f.reset();
  Cut(DropOptions{.tear_last_write = true, .garbage = false, .seed = 7});
  const std::string got = Read("log");
  ASSERT_GE(got.size(), std::string("synced|first|").size());
  ASSERT_LT(got.size(), std::string("synced|first|0123456789").size());
  EXPECT_EQ(got, std::string("synced|first|0123456789").substr(0, got.size()));
}

TEST_F(FaultRocksFsTest, PowerOffFailsWritesAndSyncs) {
  std::unique_ptr<rocksdb::FSWritableFile> f;
  ASSERT_TRUE(fs_->NewWritableFile(Path("f"), rocksdb::FileOptions(), &f, nullptr).ok());
  fs_->SetActive(false);
  EXPECT_TRUE(f->Append("x", IOOptions(), nullptr).IsIOError());
  EXPECT_TRUE(f->Sync(IOOptions(), nullptr).IsIOError());
  std::unique_ptr<rocksdb::FSWritableFile> g;
  EXPECT_TRUE(fs_->NewWritableFile(Path("g"), rocksdb::FileOptions(), &g, nullptr).IsIOError());
  EXPECT_TRUE(f->Close(IOOptions(), nullptr).IsIOError());
}

// RocksDB without its WAL, as the key index runs it: a power cut keeps the
// flushed keys and loses the unflushed ones, and the database reopens.
TEST_F(FaultRocksFsTest, RocksDbWithoutWalKeepsWhatItFlushed) {
  std::unique_ptr<rocksdb::Env> env = NewPowerCutEnv(fs_);
  rocksdb::Options o;
  o.env = env.get();
  o.create_if_missing = true;
  rocksdb::WriteOptions wo;
  wo.disableWAL = true;
  const std::string db_dir = dir_ + "/db";
  {
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, db_dir, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    ASSERT_TRUE(db->Put(wo, "flushed", "1").ok());
    ASSERT_TRUE(db->Flush(rocksdb::FlushOptions()).ok());
    ASSERT_TRUE(db->Put(wo, "unflushed", "2").ok());
    fs_->SetActive(false);
    rocksdb::Status ignored = db->Close();  // Its flush fails: the power is off.
    (void)ignored;
  }
  ASSERT_TRUE(fs_->DropUnsyncedData(DropOptions{.tear_last_write = true, .seed = 3}).ok());
  fs_->SetActive(true);
  EXPECT_GT(fs_->file_syncs(), 0u);
  EXPECT_GT(fs_->dir_syncs(), 0u);
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(o, db_dir, &raw);
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::unique_ptr<rocksdb::DB> db(raw);
  std::string v;
  EXPECT_TRUE(db->Get(rocksdb::ReadOptions(), "flushed", &v).ok());
  EXPECT_EQ(v, "1");
  EXPECT_TRUE(db->Get(rocksdb::ReadOptions(), "unflushed", &v).IsNotFound());
}

}  // namespace
}  // namespace immudb::testutil
