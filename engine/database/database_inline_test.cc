// Values kept in the key index beside their key's latest version: reads use
// them only when they match the entry's hash.
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <functional>
#include <string>

#include "database/database_test_util.h"
#include "index/index_raw_test_util.h"

namespace immudb::testing_db {
namespace {

class DatabaseInlineTest : public DbFixture {
 protected:
  std::string IndexDir() { return dir_.Sub("db") + "/index"; }
  // The index's latest record of user key `k` (stored key 0x00 || k).
  static std::string LatestKey(const std::string& k) { return std::string("L\0", 2) + k; }
  // Runs `edit` on the raw RocksDB value of `db_key`, with the database
  // closed, and writes it back.
  void EditRecord(const std::string& db_key, const std::function<void(std::string*)>& edit) {
    ASSERT_TRUE(db_->Close().ok());
    db_.reset();
    {
      index::testing_index::RawIndexDb idx(IndexDir());
      ASSERT_TRUE(idx.ok());
      std::string v;
      ASSERT_TRUE(idx.Get(db_key, &v));
      edit(&v);
      ASSERT_TRUE(idx.Put(db_key, v));
    }
    Reopen();
  }
};

TEST_F(DatabaseInlineTest, ReadsAreUnchangedByTheThresholdAndAcrossReopen) {
  // The same writes and reads with inline values off and on.
  for (uint32_t threshold : {0u, 128u}) {
    opts_.index_inline_value_bytes = threshold;
    Reopen();
    const std::string p = "t" + std::to_string(threshold) + ":";
    for (size_t n : {size_t{0}, size_t{1}, size_t{126}, size_t{127}, size_t{128}, size_t{300}}) {
      MustSet(p + "s" + std::to_string(n), std::string(n, 'v'));
    }
    MustSet(p + "s1", "second");
    ASSERT_TRUE(db_->Delete({p + "s127"}, 0, false).ok());
    for (int round = 0; round < 2; round++) {
      EXPECT_EQ(MustGet(p + "s0").value, "");
      EXPECT_EQ(MustGet(p + "s1").value, "second");
      EXPECT_EQ(MustGet(p + "s1").revision, 2u);
      EXPECT_EQ(MustGet(p + "s126").value, std::string(126, 'v'));
      EXPECT_EQ(MustGet(p + "s128").value, std::string(128, 'v'));
      EXPECT_EQ(MustGet(p + "s300").value, std::string(300, 'v'));
      KeyRequest gone;
      gone.key = p + "s127";
      EXPECT_TRUE(db_->Get(gone).status().IsNotFound());
      ScanRequest sr;
      sr.prefix = p;
      auto scan = db_->Scan(sr);
      ASSERT_TRUE(scan.ok()) << scan.status().ToString();
      ASSERT_EQ(scan->size(), 5u);  // s127 is deleted.
      EXPECT_EQ((*scan)[1].key, p + "s1");
      EXPECT_EQ((*scan)[1].value, "second");
      HistoryRequest hr;
      hr.key = p + "s1";
      auto h = db_->History(hr);
      ASSERT_TRUE(h.ok());
      ASSERT_EQ(h->size(), 2u);
      EXPECT_EQ((*h)[0].value, "v");
      EXPECT_EQ((*h)[1].value, "second");
      Reopen();
    }
  }
}

TEST_F(DatabaseInlineTest, ATamperedInlineValueFailsTheReadNeverReturnsIt) {
  opts_.index_inline_value_bytes = 128;
  Reopen();
  const TxHeader h = MustSet("k", "the right value");
  MustSet("big", std::string(1000, 'b'));
  MustSet("other", "fine");
  ASSERT_TRUE(db_->FlushIndex().ok());
  // The record ends with the stored value 0x00 || "the right value".
  EditRecord(LatestKey("k"), [](std::string* v) {
    ASSERT_EQ(v->substr(v->size() - 5), "value");
    (*v)[v->size() - 1] ^= 0x01;
  });
  KeyRequest r;
  r.key = "k";
  auto got = db_->Get(r);
  ASSERT_FALSE(got.ok()) << "returned " << got->value;
  EXPECT_TRUE(got.status().IsCorruption()) << got.status().ToString();
  ScanRequest sr;
  EXPECT_TRUE(db_->Scan(sr).status().IsCorruption());
  auto all = db_->GetAll({"k"}, 0);
  EXPECT_TRUE(all.status().IsCorruption());
  EXPECT_TRUE(db_->VerifiableGet(r, h.id).status().IsCorruption());
  // The other keys, the version by tx and the history read the log.
  EXPECT_EQ(MustGet("other").value, "fine");
  EXPECT_EQ(MustGet("big").value, std::string(1000, 'b'));
  KeyRequest at;
  at.key = "k";
  at.at_tx = h.id;
  auto by_tx = db_->Get(at);
  ASSERT_TRUE(by_tx.ok());
  EXPECT_EQ(by_tx->value, "the right value");
  HistoryRequest hr;
  hr.key = "k";
  auto hist = db_->History(hr);
  ASSERT_TRUE(hist.ok());
  EXPECT_EQ((*hist)[0].value, "the right value");
}

// What inline values change: a byte of a small value changed in the tx log
// is not read by a Get, which returns the index's copy (the committed value,
// matching the entry's hash); reads of the log still report it.
TEST_F(DatabaseInlineTest, ALogValueChangedUnderAnInlineCopyIsReportedByReadsOfTheLog) {
  opts_.index_inline_value_bytes = 128;
  Reopen();
  const TxHeader h = MustSet("k", "value-to-be-edited");
  ASSERT_TRUE(db_->FlushIndex().ok());
  ASSERT_TRUE(db_->Close().ok());
  db_.reset();
  const std::string log = dir_.Sub("db") + "/tx/00000000.tx";
  const std::string bytes = testutil::ReadAll(log);
  const size_t at = bytes.find("value-to-be-edited");
  ASSERT_NE(at, std::string::npos);
  ASSERT_TRUE(testutil::FlipByte(log, at));
  Reopen();
  EXPECT_EQ(MustGet("k").value, "value-to-be-edited");
  KeyRequest at_tx;
  at_tx.key = "k";
  at_tx.at_tx = h.id;
  EXPECT_TRUE(db_->Get(at_tx).status().IsCorruption());
  HistoryRequest hr;
  hr.key = "k";
  EXPECT_TRUE(db_->History(hr).status().IsCorruption());
}

}  // namespace
}  // namespace immudb::testing_db
