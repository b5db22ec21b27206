// Where the index keeps its records: the column families, and the 'H'
// record of a key's first version, written once the key has a second
// (docs/format/index.md, "Records").
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "index/index.h"
#include "index/index_format.h"
#include "index/index_raw_test_util.h"
#include "index/index_test_util.h"
#include "util/coding.h"

namespace immudb::index {
namespace {

using testing_index::Kv;
using testing_index::RawIndexDb;

class IndexLayoutTest : public testing_index::IndexFixture {
 protected:
  std::unique_ptr<Index> Open() {
    IndexOptions o;
    o.inline_value_max_bytes = 128;  // 'L' records carry their values.
    return OpenIndex(o);
  }
  std::string IndexDir() { return dir_.Sub("store/index"); }
  // The raw value of `db_key` in its family, "" when absent (index closed).
  std::string Raw(const std::string& db_key) {
    RawIndexDb db(IndexDir());
    EXPECT_TRUE(db.ok());
    std::string v;
    return db.Get(db_key, &v) ? v : "";
  }
  // Every version of `key` through History, GetRevision and GetAsOf.
  void ExpectVersions(Index* ix, const std::string& key, const std::vector<std::string>& values,
                      const std::vector<uint64_t>& txs) {
    auto h = ix->History(key, 0, 100, false);
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    ASSERT_EQ(h->size(), values.size());
    auto d = ix->History(key, 0, 100, true);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    ASSERT_EQ(d->size(), values.size());
    for (size_t i = 0; i < values.size(); i++) {
      EXPECT_EQ((*h)[i].revision, i + 1);
      EXPECT_FALSE((*h)[i].value_inline);  // History reads values from the log.
      EXPECT_EQ(ValueOf((*h)[i]), values[i]);
      EXPECT_EQ(ValueOf((*d)[values.size() - 1 - i]), values[i]);
      auto r = ix->GetRevision(key, i + 1);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      EXPECT_FALSE(r->value_inline);
      EXPECT_EQ(r->tx, txs[i]);
      EXPECT_EQ(ValueOf(*r), values[i]);
      auto a = ix->GetAsOf(key, txs[i]);
      ASSERT_TRUE(a.ok()) << a.status().ToString();
      EXPECT_EQ(a->revision, i + 1);
    }
    EXPECT_TRUE(ix->GetRevision(key, values.size() + 1).status().IsNotFound());
    auto latest = ix->Get(key);
    ASSERT_TRUE(latest.ok());
    EXPECT_EQ(latest->revision, values.size());
    EXPECT_TRUE(latest->value_inline);
    EXPECT_EQ(latest->value, values.back());
  }
};

TEST_F(IndexLayoutTest, AFirstVersionGetsItsHistoryRecordWithTheSecond) {
  uint64_t t1 = 0, t2 = 0, t3 = 0, u1 = 0, u2 = 0;
  {
    auto ix = Open();
    t1 = Commit({Kv("k", "one")});
    ASSERT_TRUE(ix->WaitFor(t1, 5000).ok());
    ExpectVersions(ix.get(), "k", {"one"}, {t1});
    // "u" was indexed by this open (at revision 1 it takes no revision
    // cache slot): its second version reads the 'L' record for the first
    // one's 'H' record.
    u1 = Commit({Kv("u", "first")});
    ASSERT_TRUE(ix->WaitFor(u1, 5000).ok());
    u2 = Commit({Kv("u", "second")});
    ASSERT_TRUE(ix->WaitFor(u2, 5000).ok());
    ExpectVersions(ix.get(), "u", {"first", "second"}, {u1, u2});
    ASSERT_TRUE(ix->Close().ok());
  }
  // One version: the 'L' record alone (with its value inline).
  EXPECT_EQ(Raw(HistoryKey(std::string("k"), 1)), "");
  EXPECT_EQ(Raw(LatestKey("k")).size(), kRecordFixedSize + 3);
  // Reopened (an empty revision cache: the revision comes from RocksDB).
  {
    auto ix = Open();
    t2 = Commit({Kv("k", "two")});
    ASSERT_TRUE(ix->WaitFor(t2, 5000).ok());
    ExpectVersions(ix.get(), "k", {"one", "two"}, {t1, t2});
    t3 = Commit({Kv("k", "three")});
    ASSERT_TRUE(ix->WaitFor(t3, 5000).ok());
    ExpectVersions(ix.get(), "k", {"one", "two", "three"}, {t1, t2, t3});
    ASSERT_TRUE(ix->Close().ok());
  }
  // The first version's 'H' record is the plain record of its old 'L' one.
  const std::string h1 = Raw(HistoryKey(std::string("k"), 1));
  ASSERT_EQ(h1.size(), kRecordFixedSize);
  IndexedEntry e;
  ASSERT_TRUE(DecodeRecord("k", h1, &e).ok());
  EXPECT_EQ(e.tx, t1);
  EXPECT_EQ(e.revision, 1u);
  EXPECT_EQ(ValueOf(e), "one");
  EXPECT_EQ(Raw(HistoryKey(std::string("k"), 3)).size(), kRecordFixedSize);
  EXPECT_EQ(Raw(HistoryKey(std::string("u"), 1)).size(), kRecordFixedSize);
}

TEST_F(IndexLayoutTest, VersionsOfANewKeyInOneBatch) {
  // Committed before the index opens: one batch indexes all of them.
  const uint64_t a1 = Commit({Kv("a", "1"), Kv("b", "only")});
  const uint64_t a2 = Commit({Kv("a", "2")});
  const uint64_t a3 = Commit({Kv("a", "3")});
  {
    auto ix = Open();
    ASSERT_TRUE(ix->WaitFor(a3, 5000).ok());
    ExpectVersions(ix.get(), "a", {"1", "2", "3"}, {a1, a2, a3});
    ExpectVersions(ix.get(), "b", {"only"}, {a1});
    ASSERT_TRUE(ix->Close().ok());
  }
  EXPECT_EQ(Raw(HistoryKey(std::string("a"), 1)).size(), kRecordFixedSize);
  EXPECT_EQ(Raw(HistoryKey(std::string("a"), 3)).size(), kRecordFixedSize);
  EXPECT_EQ(Raw(HistoryKey(std::string("b"), 1)), "");
  // Rebuilt from the log: the same records.
  ASSERT_TRUE(std::filesystem::remove_all(IndexDir()) > 0);
  auto ix = Open();
  ASSERT_TRUE(ix->WaitFor(a3, 5000).ok());
  ExpectVersions(ix.get(), "a", {"1", "2", "3"}, {a1, a2, a3});
  ExpectVersions(ix.get(), "b", {"only"}, {a1});
}

TEST_F(IndexLayoutTest, RecordsLiveInTheirColumnFamilies) {
  const uint64_t t1 = Commit({Kv("k", "v1")});
  const uint64_t t2 = Commit({Kv("k", "v2")});
  {
    auto ix = Open();
    ASSERT_TRUE(ix->WaitFor(t2, 5000).ok());
    ASSERT_TRUE(ix->Close().ok());
  }
  (void)t1;
  RawIndexDb db(IndexDir());
  ASSERT_TRUE(db.ok());
  std::string v;
  const std::string h = HistoryKey(std::string("k"), 2);
  const std::string l = LatestKey("k");
  const std::string marker(kIndexedUpToKey);
  EXPECT_TRUE(db.GetIn(1, h, &v));
  EXPECT_TRUE(db.GetIn(2, l, &v));
  EXPECT_TRUE(db.GetIn(0, marker, &v));
  EXPECT_EQ(GetU64BE(reinterpret_cast<const uint8_t*>(v.data())), t2);
  EXPECT_TRUE(db.GetIn(0, std::string(kFormatKey), &v));
  EXPECT_EQ(v, kFormatValue);
  for (int family : {0, 2}) EXPECT_FALSE(db.GetIn(family, h, &v)) << family;
  for (int family : {0, 1}) EXPECT_FALSE(db.GetIn(family, l, &v)) << family;
  for (int family : {1, 2}) EXPECT_FALSE(db.GetIn(family, marker, &v)) << family;
}

TEST_F(IndexLayoutTest, AnIndexOfOneColumnFamilyIsRebuilt) {
  const uint64_t t1 = Commit({Kv("k", "v1")});
  const uint64_t t2 = Commit({Kv("k", "v2")});
  {
    // Format 2: every record in the default family, with a wrong record
    // that a rebuild must not keep.
    rocksdb::Options o;
    o.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, IndexDir(), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    std::string upto;
    AppendU64BE(&upto, t2);
    rocksdb::WriteOptions wo;
    ASSERT_TRUE(db->Put(wo, std::string(kFormatKey), "immudb-index 2").ok());
    ASSERT_TRUE(db->Put(wo, std::string(kIndexedUpToKey), upto).ok());
    ASSERT_TRUE(db->Put(wo, LatestKey("zz"), std::string(kRecordFixedSize, '\0')).ok());
    ASSERT_TRUE(db->Close().ok());
  }
  auto ix = Open();
  ASSERT_NE(ix, nullptr);
  EXPECT_TRUE(ix->rebuilt_on_open());
  ASSERT_TRUE(ix->WaitFor(t2, 5000).ok());
  ExpectVersions(ix.get(), "k", {"v1", "v2"}, {t1, t2});
  EXPECT_TRUE(ix->Get("zz").status().IsNotFound());
}

TEST_F(IndexLayoutTest, KeysOfOneBatchSharingPrefixesOrExtendingEachOther) {
  // Keys that share long prefixes, extend each other (a zero byte past the
  // end included) or differ only past 8 bytes after the shared prefix,
  // several versions each, all in one batch: sorted as their bytes are.
  const std::string p(20, 'p');
  const std::vector<std::string> keys = {p,
                                         p + std::string(1, '\0'),
                                         p + std::string(2, '\0'),
                                         p + "a",
                                         p + "a" + std::string(1, '\0'),
                                         p + "ab",
                                         p + "abcdefgh1",
                                         p + "abcdefgh2",
                                         p + "abcdefgh10",
                                         p + "\xff\xff\xff\xff\xff\xff\xff\xff",
                                         p + "\xff\xff\xff\xff\xff\xff\xff\xff\x01",
                                         "q"};
  std::vector<std::vector<uint64_t>> txs(keys.size());
  uint64_t last = 0;
  for (int round = 0; round < 3; round++) {
    for (size_t i = keys.size(); i-- > 0;) {  // Descending, to be sorted.
      last = Commit({Kv(keys[i], std::to_string(round) + ":" + std::to_string(i))});
      txs[i].push_back(last);
    }
  }
  auto ix = Open();
  ASSERT_TRUE(ix->WaitFor(last, 5000).ok());
  for (size_t i = 0; i < keys.size(); i++) {
    ExpectVersions(ix.get(), keys[i],
                   {"0:" + std::to_string(i), "1:" + std::to_string(i), "2:" + std::to_string(i)},
                   txs[i]);
  }
  std::vector<std::string> scanned;
  ASSERT_TRUE(ix->Scan(ScanSpec{}, [&](const IndexedEntry& e) {
                  scanned.push_back(e.entry.key);
                  return true;
                }).ok());
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(scanned, sorted);
}

}  // namespace
}  // namespace immudb::index
