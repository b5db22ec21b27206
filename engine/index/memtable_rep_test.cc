#include "index/memtable_rep.h"

#include <gtest/gtest.h>
#include <rocksdb/comparator.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "index/index_impl.h"
#include "testutil/test_util.h"

namespace immudb::index {
namespace {

using testutil::TempDir;

// RocksDB with the index's write-side options (its memtable), checked against
// a std::map through every read path.
class IndexMemTableTest : public ::testing::Test {
 protected:
  void Open(size_t write_buffer) {
    rocksdb::Options o;
    o.create_if_missing = true;
    o.write_buffer_size = write_buffer;
    ApplyWriteSideOptions(IndexOptions{}, &o);
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, dir_.Sub("db"), &raw).ok());
    db_.reset(raw);
  }

  // A key of one of the index's record kinds (or another first byte), of
  // random length, from a small space so that keys repeat.
  std::string RandomKey() {
    static const char kKinds[] = {'H', 'L', 'M', 'A', 'z'};
    std::string k(1, kKinds[rng_() % 5]);
    const size_t len = rng_() % 6;
    for (size_t i = 0; i < len; i++) k.push_back(static_cast<char>('a' + rng_() % 4));
    return k;
  }

  // Writes `n` random puts and deletes in batches, sorted or not.
  void WriteRandom(int n, bool sorted_batches) {
    for (int done = 0; done < n;) {
      std::vector<std::pair<std::string, std::string>> ops;
      const int size = 1 + static_cast<int>(rng_() % 64);
      for (int i = 0; i < size && done < n; i++, done++) {
        ops.emplace_back(RandomKey(), rng_() % 7 == 0 ? "" : std::to_string(rng_()));
      }
      if (sorted_batches) {
        std::stable_sort(ops.begin(), ops.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
      }
      rocksdb::WriteBatch b;
      for (const auto& [k, v] : ops) {
        if (v.empty()) {
          ASSERT_TRUE(b.Delete(k).ok());
          model_.erase(k);
        } else {
          ASSERT_TRUE(b.Put(k, v).ok());
          model_[k] = v;
        }
      }
      rocksdb::WriteOptions wo;
      wo.disableWAL = true;
      ASSERT_TRUE(db_->Write(wo, &b).ok());
    }
  }

  void ExpectMatchesModel() {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    // Forward.
    auto m = model_.begin();
    for (it->SeekToFirst(); it->Valid(); it->Next(), ++m) {
      ASSERT_NE(m, model_.end());
      ASSERT_EQ(it->key().ToString(), m->first);
      ASSERT_EQ(it->value().ToString(), m->second);
    }
    ASSERT_TRUE(it->status().ok());
    ASSERT_EQ(m, model_.end());
    // Backward.
    auto r = model_.rbegin();
    for (it->SeekToLast(); it->Valid(); it->Prev(), ++r) {
      ASSERT_NE(r, model_.rend());
      ASSERT_EQ(it->key().ToString(), r->first);
    }
    ASSERT_EQ(r, model_.rend());
    // Seeks and point reads of present and absent keys.
    for (int i = 0; i < 300; i++) {
      const std::string k = RandomKey();
      auto lb = model_.lower_bound(k);
      it->Seek(k);
      ASSERT_EQ(it->Valid(), lb != model_.end()) << k;
      if (lb != model_.end()) {
        ASSERT_EQ(it->key().ToString(), lb->first);
      }
      auto ub = model_.upper_bound(k);
      it->SeekForPrev(k);
      ASSERT_EQ(it->Valid(), ub != model_.begin()) << k;
      if (ub != model_.begin()) {
        ASSERT_EQ(it->key().ToString(), std::prev(ub)->first);
      }
      std::string v;
      rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), k, &v);
      auto found = model_.find(k);
      if (found == model_.end()) {
        ASSERT_TRUE(s.IsNotFound()) << k << " " << s.ToString();
      } else {
        ASSERT_TRUE(s.ok()) << k << " " << s.ToString();
        ASSERT_EQ(v, found->second);
      }
    }
  }

  TempDir dir_;
  std::unique_ptr<rocksdb::DB> db_;
  std::mt19937_64 rng_{7};
  std::map<std::string, std::string> model_;
};

// The index's own list with the RocksDB version it is built for; RocksDB's
// skip list (and concurrent inserts) with any other.
TEST(IndexMemTableFactoryTest, TheWriteSideOptionsPickTheListForTheLinkedRocksDb) {
  rocksdb::Options o;
  ApplyWriteSideOptions(IndexOptions{}, &o);
  ASSERT_NE(o.memtable_factory, nullptr);
#ifdef IMMUDB_INDEX_MEMTABLE
  EXPECT_STREQ(o.memtable_factory->Name(), "ImmudbIndexSkipList");
  EXPECT_FALSE(o.allow_concurrent_memtable_write);
#else
  EXPECT_STREQ(o.memtable_factory->Name(), "SkipListFactory");
  EXPECT_TRUE(o.allow_concurrent_memtable_write);
#endif
}

// The list compares RocksDB's internal keys itself: user keys bytewise
// (a prefix first), then a key's versions newest first, which snapshots
// and overwrites within one memtable depend on.
TEST_F(IndexMemTableTest, VersionsOfAKeyAndKeysThatExtendIt) {
  Open(64 << 20);
  const std::string a("L\x00a", 3);
  const std::string a0("L\x00a\x00", 4);
  const std::string aff("L\x00a\xff", 4);
  const std::string b("L\x00b", 3);
  rocksdb::WriteOptions wo;
  wo.disableWAL = true;
  std::vector<const rocksdb::Snapshot*> snaps;
  for (int v = 0; v < 5; v++) {
    rocksdb::WriteBatch batch;
    for (const std::string* k : {&a, &a0, &aff, &b}) {
      ASSERT_TRUE(batch.Put(*k, *k + std::to_string(v)).ok());
    }
    ASSERT_TRUE(db_->Write(wo, &batch).ok());
    snaps.push_back(db_->GetSnapshot());
  }
  for (int v = 0; v < 5; v++) {
    rocksdb::ReadOptions ro;
    ro.snapshot = snaps[v];
    for (const std::string* k : {&a, &a0, &aff, &b}) {
      std::string got;
      ASSERT_TRUE(db_->Get(ro, *k, &got).ok());
      EXPECT_EQ(got, *k + std::to_string(v));
    }
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
    std::vector<std::string> keys;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      keys.push_back(it->key().ToString());
      EXPECT_EQ(it->value().ToString(), keys.back() + std::to_string(v));
    }
    EXPECT_EQ(keys, (std::vector<std::string>{a, a0, aff, b}));
  }
  for (const rocksdb::Snapshot* s : snaps) db_->ReleaseSnapshot(s);
}

// With another comparator the list orders through RocksDB's comparator.
TEST(IndexMemTableComparatorTest, AnotherComparatorOrdersTheMemtable) {
  TempDir dir;
  rocksdb::Options o;
  o.create_if_missing = true;
  o.comparator = rocksdb::ReverseBytewiseComparator();
  ApplyWriteSideOptions(IndexOptions{}, &o);
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(o, dir.Sub("db"), &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteBatch batch;
  for (const char* k : {"b", "a", "ab", "c"}) ASSERT_TRUE(batch.Put(k, k).ok());
  ASSERT_TRUE(db->Write(rocksdb::WriteOptions(), &batch).ok());
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  std::vector<std::string> keys;
  for (it->SeekToFirst(); it->Valid(); it->Next()) keys.push_back(it->key().ToString());
  EXPECT_EQ(keys, (std::vector<std::string>{"c", "b", "ab", "a"}));
  std::string v;
  ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), "ab", &v).ok());
  EXPECT_EQ(v, "ab");
}

TEST_F(IndexMemTableTest, MatchesAnOrderedMapInTheMemtableAndAfterFlushes) {
  Open(64 << 20);  // Everything stays in one memtable.
  WriteRandom(20000, /*sorted_batches=*/true);
  ExpectMatchesModel();
  WriteRandom(20000, /*sorted_batches=*/false);
  ExpectMatchesModel();
  ASSERT_TRUE(db_->Flush(rocksdb::FlushOptions()).ok());
  ExpectMatchesModel();
  WriteRandom(5000, /*sorted_batches=*/true);
  ExpectMatchesModel();  // Memtable over SST.
}

TEST_F(IndexMemTableTest, SmallMemtablesFlushInOrder) {
  Open(64 << 10);  // Many memtable switches and flushes.
  WriteRandom(30000, /*sorted_batches=*/true);
  ExpectMatchesModel();
}

TEST_F(IndexMemTableTest, ReadersSeeOrderedEntriesWhileTheWriterInserts) {
  Open(64 << 20);
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> scans{0};
  std::thread reader([&] {
    while (!stop.load()) {
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
      std::string prev;
      bool first = true;
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        const std::string k = it->key().ToString();
        if (!first) {
          ASSERT_LT(prev, k);
        }
        prev = k;
        first = false;
      }
      ASSERT_TRUE(it->status().ok());
      scans++;
    }
  });
  // Ascending keys of three kinds interleaved, as the indexer writes them,
  // plus random ones.
  for (int i = 0; i < 20000; i++) {
    rocksdb::WriteBatch b;
    char num[16];
    std::snprintf(num, sizeof(num), "%08d", i);
    ASSERT_TRUE(b.Put(std::string("H") + num, "h").ok());
    ASSERT_TRUE(b.Put(std::string("L") + num, "l").ok());
    ASSERT_TRUE(b.Put("Mupto", num).ok());
    ASSERT_TRUE(b.Put(RandomKey(), "r").ok());
    ASSERT_TRUE(db_->Write(rocksdb::WriteOptions(), &b).ok());
  }
  stop = true;
  reader.join();
  EXPECT_GT(scans.load(), 0u);
  std::string v;
  ASSERT_TRUE(db_->Get(rocksdb::ReadOptions(), "Mupto", &v).ok());
  EXPECT_EQ(v, "00019999");
  ASSERT_TRUE(db_->Get(rocksdb::ReadOptions(), "H00012345", &v).ok());
  EXPECT_EQ(v, "h");
}

}  // namespace
}  // namespace immudb::index
