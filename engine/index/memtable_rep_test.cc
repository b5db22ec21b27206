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
#include "index/memtable_filter.h"
#include "index/memtable_pool.h"
#include "testutil/test_util.h"

namespace immudb::index {
namespace {

using testutil::TempDir;

// A stored key as the database layer makes them: 0x00 and a zero-padded
// sequence number.
std::string Stored(int i) {
  char num[24];
  std::snprintf(num, sizeof(num), "%016d", i);
  return std::string(1, '\0') + num;
}

// A history record's key: 'H' u32BE(len) key u64BE(revision).
std::string HistoryRecordKey(const std::string& stored, uint64_t revision) {
  std::string k(1, 'H');
  for (int i = 3; i >= 0; i--) k.push_back(static_cast<char>(stored.size() >> (8 * i)));
  k += stored;
  for (int i = 7; i >= 0; i--) k.push_back(static_cast<char>(revision >> (8 * i)));
  return k;
}

// RocksDB with the index's write-side options (its memtable), checked against
// a std::map through every read path.
class IndexMemTableTest : public ::testing::Test {
 protected:
  // `pool`: the memtables' chunks come from it (the index's own list only).
  void Open(size_t write_buffer, std::shared_ptr<MemTableChunkPool> pool = nullptr) {
    rocksdb::Options o;
    o.create_if_missing = true;
    o.write_buffer_size = write_buffer;
    o.max_write_buffer_number = static_cast<int>(kIndexMemTables);
    ApplyWriteSideOptions(IndexOptions{}, &o);
    if (pool != nullptr) {
      o.memtable_factory = NewIndexMemTableFactory(o.comparator, write_buffer, pool);
      ASSERT_NE(o.memtable_factory, nullptr);
    }
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, dir_.Sub("db"), &raw).ok());
    db_.reset(raw);
  }

  // A key of one of the index's record kinds (or another first byte), of
  // random length, from a small space so that keys repeat.
  // Some 'H' keys have the history record layout ('H' u32BE(len) key
  // u64BE(revision)), which the memtable's key filter parses.
  std::string RandomKey() {
    static const char kKinds[] = {'H', 'L', 'M', 'A', 'z'};
    std::string k(1, kKinds[rng_() % 5]);
    const size_t len = rng_() % 6;
    std::string stored;
    for (size_t i = 0; i < len; i++) stored.push_back(static_cast<char>('a' + rng_() % 4));
    if (k[0] == 'H' && rng_() % 2 == 0) return HistoryRecordKey(stored, rng_() % 3);
    return k + stored;
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
  EXPECT_EQ(o.memtable_prefix_bloom_size_ratio, 0);  // The list keeps its own filter.
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

#ifdef IMMUDB_INDEX_MEMTABLE
// Records as the indexer writes them: per batch the 'H' records, the 'L'
// records and the marker, keys ascending.
TEST_F(IndexMemTableTest, MemtablesReuseThePoolsChunks) {
  constexpr size_t kWriteBuffer = 256 << 10;
  auto pool = NewIndexMemTablePool(kWriteBuffer);
  ASSERT_NE(pool, nullptr);
  const size_t per_memtable = kWriteBuffer / pool->chunk_bytes();
  Open(kWriteBuffer, pool);
  rocksdb::WriteOptions wo;
  wo.disableWAL = true;
  const std::string value(70, 'v');
  constexpr int kKeys = 40000;  // About 10 MB of records: 40 memtables.
  for (int i = 0; i < kKeys; i += 20) {
    rocksdb::WriteBatch b;
    for (int j = i; j < i + 20; j++) {
      ASSERT_TRUE(b.Put(HistoryRecordKey(Stored(j), 1), value).ok());
    }
    for (int j = i; j < i + 20; j++) ASSERT_TRUE(b.Put("L" + Stored(j), value).ok());
    ASSERT_TRUE(b.Put("Mindexed_upto", std::to_string(i)).ok());
    ASSERT_TRUE(db_->Write(wo, &b).ok());
  }
  uint64_t active = 0;
  ASSERT_TRUE(db_->GetIntProperty("rocksdb.cur-size-active-mem-table", &active));
  EXPECT_GE(active, pool->chunk_bytes());  // The chunks are counted as memtable memory.
  ASSERT_TRUE(db_->Flush(rocksdb::FlushOptions()).ok());
  // The records went through many memtables, but the chunks mapped were
  // only those of the memtables alive at once: the active one and the one
  // being flushed, and a flushed one until RocksDB frees it. That moment is
  // the flush thread's: in a quiet run the peak is about three memtables'
  // chunks (each up to a chunk or two past the write buffer), on a loaded
  // machine flushed memtables wait longer to be freed and the peak was
  // seen at five to six. Without reuse every written chunk is mapped.
  const size_t written_chunks = size_t{kKeys} * 2 * (value.size() + 40) / pool->chunk_bytes();
  EXPECT_GT(written_chunks, 10 * per_memtable);
  const size_t alive_bound = (kIndexMemTables + 1) * (per_memtable + 2);
  ASSERT_LT(alive_bound, written_chunks / 4);
  EXPECT_LE(pool->chunks_mapped_total(), written_chunks / 4);
  EXPECT_LE(pool->idle_chunks(), pool->max_idle_chunks());
  // Every record reads back, from the SSTs; and absent keys are absent.
  std::string v;
  for (int j = 0; j < kKeys; j += 97) {
    ASSERT_TRUE(db_->Get(rocksdb::ReadOptions(), "L" + Stored(j), &v).ok()) << j;
    ASSERT_TRUE(db_->Get(rocksdb::ReadOptions(), HistoryRecordKey(Stored(j), 1), &v).ok()) << j;
    ASSERT_TRUE(db_->Get(rocksdb::ReadOptions(), HistoryRecordKey(Stored(j), 2), &v).IsNotFound());
  }
  db_.reset();
  // Closed: every memtable freed, its chunks idle or unmapped.
  EXPECT_EQ(pool->mapped_chunks(), pool->idle_chunks());
}

// Point lookups of 'L' and 'H' records go through the memtable's key filter:
// present records are found in the memtable, absent ones are not, for keys
// of every kind and of record layouts the filter does not parse.
TEST_F(IndexMemTableTest, PointLookupsThroughTheKeyFilter) {
  Open(64 << 20);
  rocksdb::WriteOptions wo;
  wo.disableWAL = true;
  for (int i = 0; i < 3000; i += 2) {  // Even keys only.
    rocksdb::WriteBatch b;
    ASSERT_TRUE(b.Put(HistoryRecordKey(Stored(i), 1), "h1").ok());
    ASSERT_TRUE(b.Put(HistoryRecordKey(Stored(i), 2), "h2").ok());
    ASSERT_TRUE(b.Put("L" + Stored(i), "l").ok());
    ASSERT_TRUE(b.Put("H" + Stored(i), "malformed").ok());  // Not the 'H' layout.
    ASSERT_TRUE(b.Put("M" + Stored(i), "m").ok());
    ASSERT_TRUE(db_->Write(wo, &b).ok());
  }
  for (int pass = 0; pass < 2; pass++) {
    for (int i = 0; i < 3000; i++) {
      const bool present = i % 2 == 0;
      std::string v;
      for (const std::string& k : {HistoryRecordKey(Stored(i), 1), HistoryRecordKey(Stored(i), 2),
                                   "L" + Stored(i), "H" + Stored(i), "M" + Stored(i)}) {
        rocksdb::Status st = db_->Get(rocksdb::ReadOptions(), k, &v);
        ASSERT_EQ(st.ok(), present) << i << " " << st.ToString();
      }
      ASSERT_TRUE(
          db_->Get(rocksdb::ReadOptions(), HistoryRecordKey(Stored(i), 3), &v).IsNotFound());
      // MultiGet takes the same path.
      std::vector<rocksdb::Slice> keys;
      const std::string l = "L" + Stored(i);
      const std::string h = HistoryRecordKey(Stored(i), 2);
      keys.emplace_back(h);
      keys.emplace_back(l);
      std::vector<std::string> values;
      std::vector<rocksdb::Status> st = db_->MultiGet(rocksdb::ReadOptions(), keys, &values);
      ASSERT_EQ(st[0].ok(), present);
      ASSERT_EQ(st[1].ok(), present);
      if (present) {
        EXPECT_EQ(values[0], "h2");
        EXPECT_EQ(values[1], "l");
      }
    }
    // Then the same from an SST.
    ASSERT_TRUE(db_->Flush(rocksdb::FlushOptions()).ok());
  }
}

TEST(MemTableKeyFilterTest, ParsesRecordKeysAndHasNoFalseNegatives) {
  std::string_view stored;
  ASSERT_TRUE(StoredKeyOfRecordKey("Lkey", &stored));
  EXPECT_EQ(stored, "key");
  const std::string h = HistoryRecordKey("key", 7);
  ASSERT_TRUE(StoredKeyOfRecordKey(h, &stored));
  EXPECT_EQ(stored, "key");
  EXPECT_FALSE(StoredKeyOfRecordKey("Hkey", &stored));
  EXPECT_FALSE(StoredKeyOfRecordKey(h.substr(0, h.size() - 1), &stored));
  EXPECT_FALSE(StoredKeyOfRecordKey("Mindexed_upto", &stored));
  EXPECT_FALSE(StoredKeyOfRecordKey("", &stored));
  ASSERT_TRUE(StoredKeyOfRecordKey("L", &stored));
  EXPECT_EQ(stored, "");

  // 8 KiB for 6,000 keys (about 11 bits each, as a full memtable's filter):
  // sequential keys, as the benchmarks write them.
  MemTableKeyFilter f(8 << 10);
  EXPECT_EQ(f.bytes(), 8u << 10);
  constexpr int kKeys = 6000;
  for (int i = 0; i < kKeys; i++) f.Add(MemTableKeyHash(Stored(i)));
  for (int i = 0; i < kKeys; i++) ASSERT_TRUE(f.MayContain(MemTableKeyHash(Stored(i)))) << i;
  int false_positives = 0;
  for (int i = kKeys; i < 11 * kKeys; i++)
    false_positives += f.MayContain(MemTableKeyHash(Stored(i)));
  EXPECT_LT(false_positives, kKeys * 10 / 50);  // Under 2%.
  EXPECT_GT(false_positives, 0);                // It is a filter of that size.
}
#endif

}  // namespace
}  // namespace immudb::index
