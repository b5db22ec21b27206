// Semantics of the database layer (wire-api.md §7.2, error texts §6.2).
#include <gtest/gtest.h>

#include <filesystem>

#include "database/database_impl.h"
#include "database/database_test_util.h"

namespace immudb {
namespace {

class DatabaseTest : public testing_db::DbFixture {};

std::vector<std::string> Keys(const std::vector<Entry>& es) {
  std::vector<std::string> out;
  for (const Entry& e : es) out.push_back(e.key);
  return out;
}

TEST_F(DatabaseTest, SetGetRevisionsAndAtTx) {
  MustSet("a", "1");
  MustSet("a", "2");
  MustSet("b", "x");
  MustSet("a", "3");
  Entry e = MustGet("a");
  EXPECT_EQ(e.value, "3");
  EXPECT_EQ(e.tx, 4u);
  EXPECT_EQ(e.revision, 3u);
  KeyRequest r{"a"};
  r.at_revision = 1;
  EXPECT_EQ(db_->Get(r)->value, "1");
  r.at_revision = -1;
  EXPECT_EQ(db_->Get(r)->value, "2");
  r.at_revision = 4;
  EXPECT_EQ(db_->Get(r).status().message(), "key not found");
  r = KeyRequest{"a"};
  r.at_tx = 2;
  EXPECT_EQ(db_->Get(r)->value, "2");
  EXPECT_EQ(db_->Get(r)->revision, 0u);
  r.at_tx = 3;  // Tx 3 does not hold "a".
  EXPECT_TRUE(db_->Get(r).status().IsNotFound());
  EXPECT_EQ(db_->Get(KeyRequest{"zz"}).status().message(), "key not found");
}

TEST_F(DatabaseTest, BadRequestsAreRejectedAndWriteNothing) {
  MustSet("a", "1");
  EXPECT_EQ(db_->Get(KeyRequest{""}).status().message(), "illegal arguments: empty key");
  KeyRequest r{"a"};
  r.since_tx = 9;
  EXPECT_TRUE(db_->Get(r).status().IsInvalidArgument());
  r.since_tx = 1;
  r.at_tx = 1;
  EXPECT_TRUE(db_->Get(r).status().IsInvalidArgument());
  EXPECT_TRUE(db_->Set({}, false).status().IsInvalidArgument());
  EXPECT_TRUE(db_->Set({KeyValue{"", "v"}}, false).status().IsInvalidArgument());
  EXPECT_EQ(db_->Set({KeyValue{"d", "1"}, KeyValue{"d", "2"}}, false).status().message(),
            "duplicated keys are not supported in single batch transaction");
  // Many entries (checked through a set) and few (pairwise): the same check.
  for (size_t n : {3u, 8u, 9u, 40u}) {
    std::vector<KeyValue> kvs;
    for (size_t i = 0; i < n; i++) kvs.push_back(KeyValue{"m" + std::to_string(i), "v"});
    kvs.back().key = kvs[n / 2].key;
    EXPECT_EQ(db_->Set(kvs, false).status().message(),
              "duplicated keys are not supported in single batch transaction")
        << n;
  }
  EXPECT_EQ(db_->Set({KeyValue{std::string(1024, 'k'), "v"}}, false).status().message(),
            "max key length exceeded");
  EXPECT_EQ(db_->ExecAll({}, false).status().message(), "empty set");
  EXPECT_TRUE(db_->Scan(ScanRequest{.limit = 2501}).status().IsInvalidArgument());
  EXPECT_TRUE(db_->SetReference(ReferenceRequest{"r", "a", 1, false}).status().IsInvalidArgument());
  EXPECT_TRUE(db_->ZAdd(ZAddRequest{"s", 1, "a", 0, true}).status().IsInvalidArgument());
  EXPECT_TRUE(db_->ZAdd(ZAddRequest{"s", 1, "missing"}).status().IsNotFound());
  EXPECT_TRUE(db_->Delete({"missing"}, 0, false).status().IsNotFound());
  EXPECT_EQ(db_->CurrentState().tx_id, 1u);
}

TEST_F(DatabaseTest, DeleteHidesKeyButHistoryKeepsIt) {
  MustSet("a", "1");
  MustSet("b", "2");
  ASSERT_TRUE(db_->Delete({"a"}, 0, false).ok());
  EXPECT_EQ(db_->Get(KeyRequest{"a"}).status().message(), "key not found");
  EXPECT_TRUE(db_->Delete({"a"}, 0, false).status().IsNotFound());
  EXPECT_EQ(Keys(*db_->Scan(ScanRequest{})), std::vector<std::string>{"b"});
  auto h = db_->History(HistoryRequest{"a"});
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 2u);
  EXPECT_EQ((*h)[0].value, "1");
  EXPECT_TRUE((*h)[1].md.deleted);
  EXPECT_EQ((*h)[1].value, "");
  EXPECT_EQ((*h)[1].revision, 2u);
  auto tx = db_->TxById(3);
  ASSERT_TRUE(tx.ok());
  EXPECT_EQ(tx->entries[0].vlen, 0u);  // The stored value of a delete is empty.
  MustSet("a", "again");
  EXPECT_EQ(MustGet("a").revision, 3u);
}

TEST_F(DatabaseTest, ExpiredEntriesAreHiddenButInHistory) {
  KVMetadata md;
  md.expires_at = 2000;
  MustSet("e", "soon", md);
  EXPECT_EQ(MustGet("e").value, "soon");
  now_->store(2000);
  EXPECT_EQ(db_->Get(KeyRequest{"e"}).status().message(), "key not found: expired entry");
  EXPECT_TRUE(db_->Scan(ScanRequest{})->empty());
  auto h = db_->History(HistoryRequest{"e"});
  ASSERT_EQ(h->size(), 1u);
  EXPECT_TRUE((*h)[0].expired);
  EXPECT_EQ((*h)[0].value, "");
}

TEST_F(DatabaseTest, NonIndexableEntryIsOnlyReachableByTx) {
  KVMetadata md;
  md.non_indexable = true;
  const TxHeader h = MustSet("n", "v", md);
  EXPECT_TRUE(db_->Get(KeyRequest{"n"}).status().IsNotFound());
  KeyRequest r{"n"};
  r.at_tx = h.id;
  EXPECT_EQ(db_->Get(r)->value, "v");
}

TEST_F(DatabaseTest, ReferencesResolveOneLevel) {
  MustSet("t", "1");
  ASSERT_TRUE(db_->SetReference(ReferenceRequest{"r", "t"}).ok());
  Entry e = MustGet("r");
  EXPECT_EQ(e.key, "t");
  EXPECT_EQ(e.value, "1");
  ASSERT_TRUE(e.referenced_by);
  EXPECT_EQ(e.referenced_by->key, "r");
  EXPECT_EQ(e.referenced_by->tx, 2u);
  EXPECT_EQ(db_->SetReference(ReferenceRequest{"r2", "r"}).status().message(),
            "referenced key cannot be a reference");
  EXPECT_EQ(db_->SetReference(ReferenceRequest{"t", "t"}).status().message(),
            "final key cannot be converted into a reference");
  // A reference may be re-pointed; a bound one keeps its old value.
  ASSERT_TRUE(db_->SetReference(ReferenceRequest{"r", "t", 1, true}).ok());
  MustSet("t", "2");
  EXPECT_EQ(MustGet("r").value, "1");
  EXPECT_EQ(MustGet("r").referenced_by->at_tx, 1u);
  // Scan resolves references; a reference to a deleted key disappears.
  ASSERT_TRUE(db_->SetReference(ReferenceRequest{"u", "t"}).ok());
  EXPECT_EQ(Keys(*db_->Scan(ScanRequest{})), (std::vector<std::string>{"t", "t", "t"}));
  ASSERT_TRUE(db_->Delete({"t"}, 0, false).ok());
  EXPECT_TRUE(db_->Get(KeyRequest{"u"}).status().IsNotFound());
  EXPECT_EQ(MustGet("r").value, "1");
}

// SetReference refuses a reference to a reference, but an ExecAll that does
// not wait for the index can make a referenced key a reference itself. A
// read through the outer reference then fails with the resolution limit (one
// level), and so does a Scan that meets it, as in immudb; History still shows
// both versions of the inner key.
TEST_F(DatabaseTest, AReferenceToAKeyThatBecameAReferenceHitsTheResolutionLimit) {
  MustSet("t", "1");
  MustSet("k", "2");
  ASSERT_TRUE(db_->SetReference(ReferenceRequest{"r", "k"}).ok());
  auto h = db_->ExecAll({KeyValue{"t", "3", {}}, ReferenceRequest{"k", "t", 0, true}}, true);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  const std::string limit = "key resolution limit reached. It may be due to cyclic references";
  EXPECT_EQ(MustGet("k").value, "3");
  EXPECT_EQ(db_->Get(KeyRequest{"r"}).status().message(), limit);
  EXPECT_EQ(db_->Scan(ScanRequest{}).status().message(), limit);
  EXPECT_EQ(Keys(*db_->Scan(ScanRequest{.prefix = "t"})), (std::vector<std::string>{"t"}));
  auto hist = db_->History(HistoryRequest{"k"});
  ASSERT_TRUE(hist.ok());
  EXPECT_EQ(hist->size(), 2u);
  // Deleting the inner key leaves the outer reference dangling: skipped.
  ASSERT_TRUE(db_->Delete({"k"}, 0, false).ok());
  EXPECT_TRUE(db_->Get(KeyRequest{"r"}).status().IsNotFound());
  EXPECT_EQ(Keys(*db_->Scan(ScanRequest{})), (std::vector<std::string>{"t"}));
}

TEST_F(DatabaseTest, ScanBoundsOffsetLimitAndCount) {
  for (const char* k : {"a1", "a2", "a3", "a4", "b1"}) MustSet(k, k);
  using V = std::vector<std::string>;
  EXPECT_EQ(Keys(*db_->Scan(ScanRequest{.prefix = "a"})), (V{"a1", "a2", "a3", "a4"}));
  EXPECT_EQ(Keys(*db_->Scan(ScanRequest{.seek_key = "a1", .end_key = "a4", .prefix = "a"})),
            (V{"a2", "a3"}));
  EXPECT_EQ(Keys(*db_->Scan(ScanRequest{.seek_key = "a1",
                                        .end_key = "a4",
                                        .prefix = "a",
                                        .inclusive_seek = true,
                                        .inclusive_end = true})),
            (V{"a1", "a2", "a3", "a4"}));
  EXPECT_EQ(Keys(*db_->Scan(ScanRequest{.prefix = "a", .desc = true, .limit = 2, .offset = 1})),
            (V{"a3", "a2"}));
  EXPECT_EQ(Keys(*db_->Scan(ScanRequest{.seek_key = "a3", .desc = true})), (V{"a2", "a1"}));
  EXPECT_EQ(*db_->Count("a"), 4u);
  EXPECT_EQ(*db_->CountAll(), 5u);
  ASSERT_TRUE(db_->Get(KeyRequest{"a1"}).ok());
  auto all = db_->GetAll({"b1", "nope", "a2"}, 0);
  EXPECT_EQ(Keys(*all), (V{"b1", "a2"}));
}

TEST_F(DatabaseTest, ZScanOrdersByStoredKey) {
  for (const char* k : {"x", "y", "z"}) MustSet(k, std::string("v") + k);
  ASSERT_TRUE(db_->ZAdd(ZAddRequest{"s", 2, "y"}).ok());
  ASSERT_TRUE(db_->ZAdd(ZAddRequest{"s", 1, "x"}).ok());
  ASSERT_TRUE(db_->ZAdd(ZAddRequest{"s", -1, "z"}).ok());
  ASSERT_TRUE(db_->ZAdd(ZAddRequest{"s", 1, "x", 1, true}).ok());
  ASSERT_TRUE(db_->ZAdd(ZAddRequest{"other", 0, "x"}).ok());
  auto zs = db_->ZScan(ZScanRequest{.set = "s"});
  ASSERT_TRUE(zs.ok()) << zs.status().ToString();
  // Raw IEEE-754 bits: negative scores sort after positive ones.
  ASSERT_EQ(zs->size(), 4u);
  EXPECT_EQ((*zs)[0].key, "x");
  EXPECT_EQ((*zs)[0].at_tx, 0u);
  EXPECT_EQ((*zs)[1].at_tx, 1u);
  EXPECT_EQ((*zs)[2].key, "y");
  EXPECT_EQ((*zs)[3].key, "z");
  EXPECT_EQ((*zs)[3].score, -1);
  EXPECT_EQ((*zs)[3].entry.value, "vz");
  auto bounded = db_->ZScan(ZScanRequest{.set = "s", .min_score = 0.5, .max_score = 1.5});
  EXPECT_EQ(bounded->size(), 2u);
  auto after = db_->ZScan(
      ZScanRequest{.set = "s", .seek_key = "x", .seek_score = 1, .seek_at_tx = 1, .desc = false});
  ASSERT_EQ(after->size(), 2u);
  EXPECT_EQ((*after)[0].key, "y");
  // Descending without max_score starts at DBL_MAX's bits: negative scores
  // (whose bits sort higher) are not reached, as in immudb.
  auto desc = db_->ZScan(ZScanRequest{.set = "s", .desc = true});
  ASSERT_EQ(desc->size(), 3u);
  EXPECT_EQ((*desc)[0].key, "y");
  desc = db_->ZScan(ZScanRequest{.set = "s", .limit = 1, .desc = true, .offset = 1});
  ASSERT_EQ(desc->size(), 1u);
  EXPECT_EQ((*desc)[0].key, "x");
  EXPECT_EQ((*desc)[0].at_tx, 1u);
}

TEST_F(DatabaseTest, ExecAllWritesOneTxAndSeesItsOwnKeys) {
  auto h = db_->ExecAll({KeyValue{"k", "v"}, ReferenceRequest{"r", "k"}, ZAddRequest{"s", 3, "k"}},
                        false);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->nentries, 3u);
  EXPECT_EQ(MustGet("r").value, "v");
  EXPECT_EQ(db_->ZScan(ZScanRequest{.set = "s"})->size(), 1u);
  EXPECT_TRUE(
      db_->ExecAll({KeyValue{"k", "1"}, KeyValue{"k", "2"}}, false).status().IsInvalidArgument());
}

TEST_F(DatabaseTest, TxReadsAndScan) {
  for (int i = 0; i < 5; i++) MustSet("k" + std::to_string(i), "v");
  EXPECT_EQ(db_->TxById(6).status().message(), "tx not found");
  auto txs = db_->TxScan(2, 2, false);
  ASSERT_EQ(txs->size(), 2u);
  EXPECT_EQ((*txs)[1].header.id, 3u);
  txs = db_->TxScan(5, 0, true);
  ASSERT_EQ(txs->size(), 5u);
  EXPECT_EQ((*txs)[4].header.id, 1u);
  EXPECT_EQ(*db_->ReadValue((*txs)[0].entries[0]), EncodeValue("v"));
}

TEST_F(DatabaseTest, NoWaitAndSinceTx) {
  auto h = db_->Set({KeyValue{"a", "1"}}, true);
  ASSERT_TRUE(h.ok());
  KeyRequest r{"a"};
  r.since_tx = h->id;
  EXPECT_EQ(db_->Get(r)->value, "1");
}

TEST(ReadMemoryTest, TheCacheTakesTheValueMapsShareUpToTheLatestRecords) {
  using database::SplitReadMemory;
  constexpr uint64_t M = 1 << 20;
  // Latest records that fit the cache: nothing moves.
  EXPECT_EQ(SplitReadMemory(90 * M, 128 * M, 192 * M).block_cache_bytes, 128 * M);
  EXPECT_EQ(SplitReadMemory(90 * M, 128 * M, 192 * M).value_map_bytes, 192 * M);
  EXPECT_EQ(SplitReadMemory(0, 128 * M, 192 * M).value_map_bytes, 192 * M);
  // Larger: the cache grows to them, the value map gives what it grows by.
  EXPECT_EQ(SplitReadMemory(200 * M, 128 * M, 192 * M).block_cache_bytes, 200 * M);
  EXPECT_EQ(SplitReadMemory(200 * M, 128 * M, 192 * M).value_map_bytes, 120 * M);
  // Past both budgets together: all of it to the cache, the sum unchanged.
  EXPECT_EQ(SplitReadMemory(900 * M, 128 * M, 192 * M).block_cache_bytes, 320 * M);
  EXPECT_EQ(SplitReadMemory(900 * M, 128 * M, 192 * M).value_map_bytes, 0u);
  EXPECT_EQ(SplitReadMemory(900 * M, 128 * M, 0).block_cache_bytes, 128 * M);
  // A value map budget far above the cache: the cache grows to 4x at most.
  EXPECT_EQ(SplitReadMemory(900 * M, 128 * M, 4096 * M).block_cache_bytes, 512 * M);
  EXPECT_EQ(SplitReadMemory(900 * M, 128 * M, 4096 * M).value_map_bytes, 3712 * M);
}

TEST_F(DatabaseTest, IndexLossIsRebuiltAndReadsStayRight) {
  for (int i = 0; i < 30; i++) MustSet("k" + std::to_string(i % 6), std::to_string(i));
  ASSERT_TRUE(db_->Delete({"k0"}, 0, false).ok());
  db_->Close().ok();
  db_.reset();
  std::filesystem::remove_all(dir_.Sub("db/index"));
  Reopen();
  EXPECT_TRUE(db_->Get(KeyRequest{"k0"}).status().IsNotFound());
  EXPECT_EQ(MustGet("k5").value, "29");
  EXPECT_EQ(MustGet("k5").revision, 5u);
  EXPECT_EQ(db_->History(HistoryRequest{"k0"})->size(), 6u);
  // Garbage in place of every index file: the database still opens.
  db_->Close().ok();
  db_.reset();
  for (const auto& f : std::filesystem::directory_iterator(dir_.Sub("db/index"))) {
    if (f.is_regular_file()) std::filesystem::resize_file(f.path(), 3);
  }
  Reopen();
  EXPECT_EQ(MustGet("k4").value, "28");
  EXPECT_EQ(*db_->CountAll(), 6u);
}

}  // namespace
}  // namespace immudb
