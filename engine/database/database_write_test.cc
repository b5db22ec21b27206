// Write preconditions, ExecAll's own rules, and the read semantics that
// follow immudb exactly (scan limits and offsets, sorted-set seeks, History
// through references, GetAll). Error texts per wire-api.md §6.2.
#include <gtest/gtest.h>

#include <atomic>
#include <limits>
#include <map>
#include <thread>

#include "database/database_test_util.h"

namespace immudb {
namespace {

class DatabaseWriteTest : public testing_db::DbFixture {
 protected:
  static Precondition MustExist(std::string k) {
    return Precondition{Precondition::Kind::kKeyMustExist, std::move(k), 0};
  }
  static Precondition MustNotExist(std::string k) {
    return Precondition{Precondition::Kind::kKeyMustNotExist, std::move(k), 0};
  }
  static Precondition NotModifiedAfter(std::string k, uint64_t tx) {
    return Precondition{Precondition::Kind::kKeyNotModifiedAfterTx, std::move(k), tx};
  }
  uint64_t LastTx() { return db_->CurrentState().tx_id; }
  Result<TxHeader> SetIf(const std::string& k, const std::string& v, std::vector<Precondition> p) {
    return db_->Set({KeyValue{k, v, {}}}, false, p);
  }
};

std::vector<std::string> Keys(const std::vector<Entry>& es) {
  std::vector<std::string> out;
  for (const Entry& e : es) out.push_back(e.key);
  return out;
}

std::vector<std::string> Members(const std::vector<ZEntry>& es) {
  std::vector<std::string> out;
  for (const ZEntry& e : es) out.push_back(e.key + "@" + std::to_string(e.score));
  return out;
}

TEST_F(DatabaseWriteTest, KeyMustExistAndMustNotExist) {
  auto r = SetIf("a", "1", {MustExist("a")});
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(), "precondition failed: KeyMustExist");
  EXPECT_EQ(LastTx(), 0u);
  ASSERT_TRUE(SetIf("a", "1", {MustNotExist("a")}).ok());
  EXPECT_EQ(SetIf("a", "2", {MustNotExist("a")}).status().message(),
            "precondition failed: KeyMustNotExist");
  ASSERT_TRUE(SetIf("a", "2", {MustExist("a")}).ok());
  EXPECT_EQ(MustGet("a").value, "2");
  // A deleted or expired key does not exist; a reference key does.
  ASSERT_TRUE(db_->Delete({"a"}, 0, false).ok());
  EXPECT_FALSE(SetIf("b", "1", {MustExist("a")}).ok());
  ASSERT_TRUE(SetIf("a", "3", {MustNotExist("a")}).ok());
  KVMetadata md;
  md.expires_at = 1500;
  MustSet("e", "x", md);
  EXPECT_TRUE(SetIf("b", "1", {MustExist("e")}).ok());
  now_->store(1500);
  EXPECT_EQ(SetIf("b", "2", {MustExist("e")}).status().message(),
            "precondition failed: KeyMustExist");
  EXPECT_TRUE(SetIf("b", "3", {MustNotExist("e")}).ok());
  ASSERT_TRUE(db_->SetReference(ReferenceRequest{"ref", "a"}).ok());
  EXPECT_TRUE(SetIf("c", "1", {MustExist("ref")}).ok());
  // Every precondition must hold.
  const uint64_t before = LastTx();
  EXPECT_FALSE(SetIf("c", "2", {MustExist("c"), MustNotExist("a")}).ok());
  EXPECT_EQ(LastTx(), before);
  EXPECT_EQ(MustGet("c").value, "1");
}

TEST_F(DatabaseWriteTest, KeyNotModifiedAfterTxCountsEveryVersion) {
  const uint64_t t1 = MustSet("k", "1").id;
  MustSet("other", "x");
  EXPECT_TRUE(SetIf("k", "2", {NotModifiedAfter("k", t1)}).ok());
  EXPECT_EQ(SetIf("k", "3", {NotModifiedAfter("k", t1)}).status().message(),
            "precondition failed: KeyNotModifiedAfterTxID");
  // A never-written key was not modified; a delete is a modification.
  EXPECT_TRUE(SetIf("n", "1", {NotModifiedAfter("never", 1)}).ok());
  const uint64_t before_delete = LastTx();
  ASSERT_TRUE(db_->Delete({"k"}, 0, false).ok());
  EXPECT_FALSE(SetIf("n", "2", {NotModifiedAfter("k", before_delete)}).ok());
  EXPECT_TRUE(SetIf("n", "2", {NotModifiedAfter("k", LastTx())}).ok());
}

TEST_F(DatabaseWriteTest, MalformedPreconditionsAreRejectedAndWriteNothing) {
  MustSet("a", "1");
  EXPECT_EQ(SetIf("a", "2", {MustExist("")}).status().message(), "invalid precondition: null key");
  EXPECT_EQ(SetIf("a", "2", {NotModifiedAfter("a", 0)}).status().message(),
            "invalid precondition: invalid precondition: invalid transaction ID");
  EXPECT_EQ(SetIf("a", "2", {MustExist(std::string(1024, 'k'))}).status().message(),
            "invalid precondition: invalid precondition: max key length exceeded");
  std::vector<Precondition> many(1025, MustExist("a"));
  EXPECT_EQ(SetIf("a", "2", many).status().message(),
            "invalid precondition: too many preconditions");
  EXPECT_TRUE(SetIf("a", "2", {MustExist("")}).status().IsInvalidArgument());
  EXPECT_EQ(LastTx(), 1u);
}

TEST_F(DatabaseWriteTest, PreconditionsOnExecAllReferencesAndVerifiableSet) {
  MustSet("a", "1");
  auto h = db_->ExecAll({KeyValue{"b", "1"}}, false, {MustExist("b")});
  EXPECT_EQ(h.status().message(), "precondition failed: KeyMustExist");
  h = db_->ExecAll({KeyValue{"b", "1"}, ReferenceRequest{"r", "b"}}, true, {MustNotExist("b")});
  EXPECT_EQ(h.status().message(),
            "no wait operation must be self-contained: illegal arguments: can only set "
            "references to keys added within same transaction, please use bound references "
            "with AtTx set to 0");
  ASSERT_TRUE(db_->ExecAll({KeyValue{"b", "1"}}, false, {MustNotExist("b")}).ok());
  ReferenceRequest ref{"r", "a"};
  ref.preconditions = {MustNotExist("a")};
  EXPECT_EQ(db_->SetReference(ref).status().message(), "precondition failed: KeyMustNotExist");
  ref.preconditions = {MustNotExist("r")};
  ASSERT_TRUE(db_->SetReference(ref).ok());
  const uint64_t before = LastTx();
  auto v = db_->VerifiableSet({KeyValue{"c", "1", {}}}, false, 0, {MustExist("zz")});
  EXPECT_EQ(v.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(LastTx(), before);
  v = db_->VerifiableSet({KeyValue{"c", "1", {}}}, false, before, {MustExist("a")});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->tx.header.id, before + 1);
}

TEST_F(DatabaseWriteTest, PreconditionIsAtomicWithTheCommitUnderConcurrency) {
  // Writers race to create the same keys with KeyMustNotExist while plain
  // writers commit other keys: each key is created exactly once.
  constexpr int kThreads = 6, kKeys = 15;
  std::atomic<int> created{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kKeys; i++) {
        const std::string k = "k" + std::to_string(i);
        auto h = db_->Set({KeyValue{k, std::to_string(t), {}}}, t % 2 == 0, {MustNotExist(k)});
        if (h.ok()) {
          created++;
        } else {
          EXPECT_EQ(h.status().message(), "precondition failed: KeyMustNotExist");
        }
        EXPECT_TRUE(db_->Set({KeyValue{"p" + std::to_string(t), "x", {}}}, true).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(created.load(), kKeys);
  for (int i = 0; i < kKeys; i++) {
    auto hist = db_->History(HistoryRequest{"k" + std::to_string(i)});
    ASSERT_TRUE(hist.ok());
    EXPECT_EQ(hist->size(), 1u);
  }
}

TEST_F(DatabaseWriteTest, ExecAllBindsToItsOwnTxAndChecksSelfContainedNoWait) {
  auto h = db_->ExecAll(
      {KeyValue{"k", "v1"}, ReferenceRequest{"r", "k", 0, true}, ZAddRequest{"s", 1, "k", 0, true}},
      true);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  MustSet("k", "v2");
  Entry e = MustGet("r");
  EXPECT_EQ(e.value, "v1");
  EXPECT_EQ(e.referenced_by->at_tx, h->id);
  auto zs = db_->ZScan(ZScanRequest{.set = "s"});
  ASSERT_EQ(zs->size(), 1u);
  EXPECT_EQ((*zs)[0].at_tx, h->id);
  EXPECT_EQ((*zs)[0].entry.value, "v1");
  // no_wait: only bound members of keys set earlier in the same ops.
  EXPECT_EQ(db_->ExecAll({ZAddRequest{"s", 1, "k", 0, true}, KeyValue{"k", "v3"}}, true)
                .status()
                .message(),
            "no wait operation must be self-contained: illegal arguments: can not create a "
            "reference into a set for a key that was not set in the same transaction");
  EXPECT_EQ(db_->ExecAll({ReferenceRequest{"r2", "k", 0, true}}, true).status().message(),
            "no wait operation must be self-contained: illegal arguments: can not create a "
            "reference to a key that was not set in the same transaction");
  EXPECT_EQ(
      db_->ExecAll({KeyValue{"m", "1"}, ZAddRequest{"s", 1, "m"}, ZAddRequest{"s", 2, "m"}}, false)
          .status()
          .message(),
      "duplicated index inside zAdd insertions are not supported in single batch "
      "transaction");
  // At tx given without bound_ref, and unbound outside ExecAll, stay illegal.
  EXPECT_EQ(db_->ExecAll({ReferenceRequest{"r3", "k", 1, false}}, false).status().message(),
            "illegal arguments");
  EXPECT_EQ(db_->SetReference(ReferenceRequest{"r3", "k", 0, true}).status().message(),
            "illegal arguments");
  // With the index, an earlier key need not be in the batch.
  ASSERT_TRUE(db_->ExecAll({ReferenceRequest{"r4", "k"}, ZAddRequest{"s", 5, "k"}}, false).ok());
  EXPECT_EQ(MustGet("r4").value, "v2");
}

TEST_F(DatabaseWriteTest, ZScanSeeksByScoreAndCountsFilteredMembersInTheLimit) {
  for (const char* k : {"a", "b", "c", "d", "gone"}) MustSet(k, k);
  for (auto [k, score] : std::vector<std::pair<const char*, double>>{
           {"a", 1}, {"b", 2}, {"gone", 2.5}, {"c", 3}, {"d", 4}}) {
    ASSERT_TRUE(db_->ZAdd(ZAddRequest{"s", score, k}).ok());
  }
  ASSERT_TRUE(db_->Delete({"gone"}, 0, false).ok());
  using V = std::vector<std::string>;
  EXPECT_EQ(Members(*db_->ZScan(ZScanRequest{.set = "s"})),
            (V{"a@1.000000", "b@2.000000", "c@3.000000", "d@4.000000"}));
  // min/max are inclusive.
  EXPECT_EQ(Members(*db_->ZScan(ZScanRequest{.set = "s", .min_score = 2, .max_score = 3})),
            (V{"b@2.000000", "c@3.000000"}));
  // Descending starts at max_score's bits: members with exactly that score
  // sort after that position and are not reached (immudb's behaviour).
  EXPECT_EQ(Members(*db_->ZScan(ZScanRequest{.set = "s", .desc = true, .max_score = 3})),
            (V{"b@2.000000", "a@1.000000"}));
  // immudb's reverse pagination seeks from (DBL_MAX, key, max tx) instead.
  EXPECT_EQ(Members(*db_->ZScan(ZScanRequest{.set = "s",
                                             .seek_key = "d",
                                             .seek_score = std::numeric_limits<double>::max(),
                                             .seek_at_tx = UINT64_MAX,
                                             .inclusive_seek = true,
                                             .limit = 2,
                                             .desc = true,
                                             .max_score = 3})),
            (V{"c@3.000000"}));
  // The member of a deleted key is read (and counted by limit) but not returned.
  EXPECT_EQ(Members(*db_->ZScan(ZScanRequest{.set = "s", .limit = 3})),
            (V{"a@1.000000", "b@2.000000"}));
  // offset skips members before any filter.
  EXPECT_EQ(Members(*db_->ZScan(ZScanRequest{.set = "s", .offset = 2})),
            (V{"c@3.000000", "d@4.000000"}));
  // Seek tuple (score, key, at_tx), exclusive unless inclusive_seek.
  EXPECT_EQ(Members(*db_->ZScan(ZScanRequest{.set = "s", .seek_key = "b", .seek_score = 2})),
            (V{"c@3.000000", "d@4.000000"}));
  EXPECT_EQ(Members(*db_->ZScan(ZScanRequest{
                .set = "s", .seek_key = "b", .seek_score = 2, .inclusive_seek = true})),
            (V{"b@2.000000", "c@3.000000", "d@4.000000"}));
  EXPECT_EQ(Members(*db_->ZScan(
                ZScanRequest{.set = "s", .seek_key = "c", .seek_score = 3, .desc = true})),
            (V{"b@2.000000", "a@1.000000"}));
  EXPECT_EQ(db_->ZScan(ZScanRequest{.set = "s", .limit = 2501}).status().message(),
            "result size limit exceeded: the specified limit (2501) is larger than the maximum "
            "allowed one (2500)");
  EXPECT_EQ(db_->ZScan(ZScanRequest{.set = "s", .since_tx = 99}).status().message(),
            "illegal arguments");
  EXPECT_EQ(db_->ZScan(ZScanRequest{}).status().message(), "illegal arguments");
}

TEST_F(DatabaseWriteTest, ScanOffsetSkipsLiveKeysAndLimitCountsDanglingReferences) {
  for (const char* k : {"a", "b", "c", "d", "t"}) MustSet(k, k);
  ASSERT_TRUE(db_->SetReference(ReferenceRequest{"r", "t"}).ok());
  ASSERT_TRUE(db_->Delete({"b", "t"}, 0, false).ok());
  using V = std::vector<std::string>;
  EXPECT_EQ(Keys(*db_->Scan(ScanRequest{})), (V{"a", "c", "d"}));
  // Deleted keys are not offset; "r" (pointing at a deleted key) is read.
  EXPECT_EQ(Keys(*db_->Scan(ScanRequest{.offset = 1})), (V{"c", "d"}));
  EXPECT_EQ(Keys(*db_->Scan(ScanRequest{.seek_key = "c", .limit = 2})), (V{"d"}));
  EXPECT_EQ(Keys(*db_->Scan(ScanRequest{.seek_key = "d",
                                        .end_key = "a",
                                        .desc = true,
                                        .inclusive_seek = true,
                                        .inclusive_end = true})),
            (V{"d", "c", "a"}));
  EXPECT_EQ(Keys(*db_->Scan(ScanRequest{.seek_key = "d", .end_key = "a", .desc = true})), (V{"c"}));
  EXPECT_EQ(db_->Scan(ScanRequest{.since_tx = 99}).status().message(), "illegal arguments");
  // Count includes deleted keys, as immudb's does.
  EXPECT_EQ(*db_->CountAll(), 6u);
}

TEST_F(DatabaseWriteTest, HistoryOfAReferenceShowsItsStoredVersions) {
  MustSet("t", "1");
  MustSet("u", "2");
  ASSERT_TRUE(db_->SetReference(ReferenceRequest{"r", "t"}).ok());
  ASSERT_TRUE(db_->SetReference(ReferenceRequest{"r", "u", 2, true}).ok());
  auto h = db_->History(HistoryRequest{"r"});
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  ASSERT_EQ(h->size(), 2u);
  const std::string to_t = EncodeReferenceValue("t", 0).substr(1);
  const std::string to_u = EncodeReferenceValue("u", 2).substr(1);
  EXPECT_EQ((*h)[0].key, "r");
  EXPECT_EQ((*h)[0].value, to_t);
  EXPECT_EQ((*h)[0].tx, 3u);
  EXPECT_FALSE((*h)[0].referenced_by);
  EXPECT_EQ((*h)[1].value, to_u);
  EXPECT_EQ((*h)[1].revision, 2u);
  EXPECT_EQ(db_->History(HistoryRequest{.key = "r", .since_tx = 9}).status().message(),
            "illegal arguments");
  EXPECT_EQ(db_->History(HistoryRequest{"none"}).status().message(), "key not found");
}

TEST_F(DatabaseWriteTest, GetAllResolvesReferencesAndSkipsWhatIsNotLive) {
  MustSet("a", "1");
  KVMetadata md;
  md.expires_at = 1100;
  MustSet("e", "x", md);
  MustSet("d", "2");
  ASSERT_TRUE(db_->SetReference(ReferenceRequest{"r", "a"}).ok());
  ASSERT_TRUE(db_->Delete({"d"}, 0, false).ok());
  now_->store(1100);
  auto all = db_->GetAll({"r", "", "e", "d", "missing", "a"}, 0);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].key, "a");
  EXPECT_EQ((*all)[0].referenced_by->key, "r");
  EXPECT_EQ((*all)[1].value, "1");
  EXPECT_EQ(db_->GetAll({"a"}, 99).status().message(), "illegal arguments");
}

TEST_F(DatabaseWriteTest, ExpiredAndDeletedKeysAreHiddenFromEveryReadButHistory) {
  KVMetadata md;
  md.expires_at = 1100;
  MustSet("e", "x", md);
  MustSet("d", "y");
  MustSet("live", "z");
  for (const char* k : {"e", "d", "live"}) ASSERT_TRUE(db_->ZAdd(ZAddRequest{"s", 1, k}).ok());
  ASSERT_TRUE(db_->SetReference(ReferenceRequest{"re", "e"}).ok());
  ASSERT_TRUE(db_->Delete({"d"}, 0, false).ok());
  now_->store(1100);
  EXPECT_EQ(db_->Get(KeyRequest{"re"}).status().message(), "key not found: expired entry");
  EXPECT_EQ(Keys(*db_->Scan(ScanRequest{})), (std::vector<std::string>{"live"}));
  auto zs = db_->ZScan(ZScanRequest{.set = "s"});
  ASSERT_EQ(zs->size(), 1u);
  EXPECT_EQ((*zs)[0].key, "live");
  auto he = db_->History(HistoryRequest{"e"});
  ASSERT_EQ(he->size(), 1u);
  EXPECT_TRUE((*he)[0].expired);
  auto hd = db_->History(HistoryRequest{"d"});
  ASSERT_EQ(hd->size(), 2u);
  EXPECT_EQ((*hd)[0].value, "y");
  EXPECT_TRUE((*hd)[1].md.deleted);
  // A reference's own version stays in its History though its target expired.
  EXPECT_EQ(db_->History(HistoryRequest{"re"})->size(), 1u);
}

TEST_F(DatabaseWriteTest, DeleteErrorsAndRepeatedKeys) {
  MustSet("a", "1");
  KVMetadata md;
  md.expires_at = 1100;
  MustSet("e", "x", md);
  now_->store(1100);
  EXPECT_EQ(db_->Delete({"e"}, 0, false).status().message(), "key not found: expired entry");
  EXPECT_EQ(db_->Delete({"a"}, 9, false).status().message(), "tx not found");
  EXPECT_EQ(db_->Delete({"a", ""}, 0, false).status().message(), "illegal arguments");
  EXPECT_EQ(LastTx(), 2u);
  auto h = db_->Delete({"a", "a"}, 2, false);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->nentries, 1u);
}

TEST(EncodingTest, EncodeToReplacesWhatTheStringHeld) {
  std::string out(300, 'z');
  EncodeKeyTo("key", &out);
  EXPECT_EQ(out, EncodeKey("key"));
  EncodeValueTo("", &out);
  EXPECT_EQ(out, EncodeValue(""));
  EncodeValueTo(std::string(500, 'v'), &out);
  EXPECT_EQ(out, EncodeValue(std::string(500, 'v')));
}

TEST_F(DatabaseWriteTest, SetsOfOneThreadReuseTheirEntriesWithoutMixingThem) {
  // Batches of other sizes and lengths on one thread: each Set assigns into
  // the entries its thread's last write handed back, so what a longer key or
  // value left there must not show in a shorter one.
  const std::vector<std::pair<size_t, size_t>> shapes = {{50, 300}, {10, 20}, {80, 5},
                                                         {1, 1000}, {30, 0},  {50, 40}};
  std::map<std::string, std::string> want;
  for (size_t round = 0; round < shapes.size(); round++) {
    const auto [n, len] = shapes[round];
    std::vector<KeyValue> kvs;
    for (size_t i = 0; i < n; i++) {
      const std::string key =
          (round % 2 == 0 ? "a-long-key-prefix-" : "k") + std::to_string(i * 7 + round);
      const std::string value(len, static_cast<char>('a' + (round + i) % 26));
      kvs.push_back(KeyValue{key, value, {}});
      want[key] = value;
    }
    ASSERT_TRUE(db_->Set(kvs, false).ok()) << round;
    if (round == 2) {
      // A refused Set in between (an empty key) writes nothing.
      const uint64_t last = LastTx();
      kvs[5].key.clear();
      EXPECT_TRUE(db_->Set(kvs, false).status().IsInvalidArgument());
      EXPECT_EQ(LastTx(), last);
    }
    if (round == 3) {
      // ExecAll builds its own entries; the next Set still reuses.
      ASSERT_TRUE(db_->ExecAll({Op(KeyValue{"via-exec", "e", {}})}, false).ok());
      want["via-exec"] = "e";
    }
  }
  for (const auto& [k, v] : want) EXPECT_EQ(MustGet(k).value, v) << k;
  // A Set from another thread, then from this one again.
  std::thread([&] { MustSet("other-thread", "o"); }).join();
  MustSet("k0", "last");
  EXPECT_EQ(MustGet("other-thread").value, "o");
  EXPECT_EQ(MustGet("k0").value, "last");
}

}  // namespace
}  // namespace immudb
