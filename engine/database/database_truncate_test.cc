// Database truncation: which reads fail, which skip, what stays verifiable.
#include <filesystem>

#include "database/database_test_util.h"
#include "immudb/verify.h"

namespace immudb {
namespace {

using testing_db::DbFixture;

constexpr int64_t kDay = 86400;

class DatabaseTruncateTest : public DbFixture {
 protected:
  void SetUp() override {
    auto now = now_;
    opts_.store.now_unix_seconds = [now] { return now->load(); };
    DbFixture::SetUp();
  }
  // k1..k9: three txs on each of days 1, 2 and 3; then a reference r1 -> k1
  // and sorted-set members k1 and k8 on day 4.
  void Fill() {
    for (int i = 1; i <= 9; i++) {
      now_->store(((i - 1) / 3 + 1) * kDay + 10 * i);
      MustSet("k" + std::to_string(i), "v" + std::to_string(i));
    }
    now_->store(4 * kDay + 10);
    ReferenceRequest r;
    r.key = "r1";
    r.referenced_key = "k1";
    ASSERT_TRUE(db_->SetReference(r).ok());
    for (const char* k : {"k1", "k8"}) {
      ZAddRequest z;
      z.set = "s";
      z.key = k;
      z.score = 1;
      ASSERT_TRUE(db_->ZAdd(z).ok());
    }
  }
  Status GetStatus(const std::string& k) {
    KeyRequest r;
    r.key = k;
    return db_->Get(r).status();
  }
};

TEST_F(DatabaseTruncateTest, RetentionPicksTheCutAsImmudbAndNeverMovesBack) {
  Fill();
  now_->store(5 * kDay + 3600);
  auto r = db_->Truncate(10 * kDay);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(), "retention period has not been reached");
  EXPECT_EQ(db_->TruncatedUpTo(), 0u);
  // 3 days back is day 2, 01:00: the cut is the last tx of day 1 (tx 3);
  // the txs before it lose their values.
  r = db_->Truncate(3 * kDay);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, 2u);
  // 2 days back: day 3, the cut is tx 6.
  r = db_->Truncate(2 * kDay);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 5u);
  // A longer retention later does not bring values back.
  r = db_->Truncate(3 * kDay);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 5u);
  EXPECT_EQ(MustGet("k6").value, "v6");
  EXPECT_TRUE(IsValueTruncated(GetStatus("k5")));
  EXPECT_TRUE(db_->TruncateUpToTx(100).status().IsInvalidArgument());
}

TEST_F(DatabaseTruncateTest, ReadsOfTruncatedValuesFailScansSkipThemProofsStay) {
  Fill();
  const uint64_t last = db_->CurrentState().tx_id;
  auto t = db_->TruncateUpToTx(5);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(*t, 5u);

  for (int i = 1; i <= 5; i++) {
    Status s = GetStatus("k" + std::to_string(i));
    EXPECT_TRUE(IsValueTruncated(s)) << s.ToString();
    EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  }
  for (int i = 6; i <= 9; i++)
    EXPECT_EQ(MustGet("k" + std::to_string(i)).value, "v" + std::to_string(i));
  // A reference to a truncated value, and the history of a truncated key.
  EXPECT_TRUE(IsValueTruncated(GetStatus("r1")));
  HistoryRequest h;
  h.key = "k2";
  EXPECT_TRUE(IsValueTruncated(db_->History(h).status()));

  auto scan = db_->Scan(ScanRequest{});
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  std::vector<std::string> keys;
  for (const Entry& e : *scan) keys.push_back(e.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"k6", "k7", "k8", "k9"}));
  ZScanRequest zr;
  zr.set = "s";
  auto z = db_->ZScan(zr);
  ASSERT_TRUE(z.ok()) << z.status().ToString();
  ASSERT_EQ(z->size(), 1u);
  EXPECT_EQ((*z)[0].key, "k8");

  // Headers and entries stay; their values do not.
  auto tx = db_->TxById(2);
  ASSERT_TRUE(tx.ok());
  EXPECT_TRUE(IsValueTruncated(db_->ReadValue(tx->entries[0]).status()));
  EXPECT_TRUE(IsValueTruncated(db_->ExportTx(2).status()));
  EXPECT_TRUE(db_->ExportTx(6).ok());

  // Verifiable reads: a truncated value cannot be proven, the txs can.
  KeyRequest kr;
  kr.key = "k3";
  EXPECT_TRUE(IsValueTruncated(db_->VerifiableGet(kr, last).status()));
  kr.key = "k7";
  auto ve = db_->VerifiableGet(kr, 1);
  ASSERT_TRUE(ve.ok()) << ve.status().ToString();
  EXPECT_EQ(ve->entry.value, "v7");
  for (uint64_t a = 1; a <= last; a++) {
    auto vt = db_->VerifiableTxById(a, last);
    ASSERT_TRUE(vt.ok()) << a << ": " << vt.status().ToString();
    const TxHeader& src = vt->dual_proof.source_tx_header;
    const TxHeader& dst = vt->dual_proof.target_tx_header;
    EXPECT_TRUE(verify::VerifyDualProof(vt->dual_proof, src.id, dst.id, *src.Alh(), *dst.Alh()))
        << a;
  }

  // New writes of a truncated key are readable.
  MustSet("k1", "again");
  EXPECT_EQ(MustGet("k1").value, "again");
}

// The index reads entries, never values: rebuilding it from scratch works
// across truncated txs, and the truncation point survives a reopen.
TEST_F(DatabaseTruncateTest, IndexRebuildsAcrossTruncatedTxsAndReopenKeepsThePoint) {
  Fill();
  const uint64_t last = db_->CurrentState().tx_id;
  ASSERT_TRUE(db_->TruncateUpToTx(7).ok());
  ASSERT_TRUE(db_->Close().ok());
  db_.reset();
  std::filesystem::remove_all(dir_.Sub("db") + "/index");
  Reopen();
  EXPECT_EQ(db_->TruncatedUpTo(), 7u);
  KeyRequest kr;
  kr.key = "k9";
  kr.since_tx = last;
  auto e = db_->Get(kr);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->value, "v9");
  EXPECT_EQ(db_->IndexedUpTo(), last);
  // Truncated, not missing: the index knows the key.
  EXPECT_TRUE(IsValueTruncated(GetStatus("k2")));
  EXPECT_EQ(*db_->Count("k"), 9u);
}

}  // namespace
}  // namespace immudb
