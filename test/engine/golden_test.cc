// Golden store files: a store written by each format (docs/format/store.md)
// is kept in testdata/golden/store-v<N> and must open, read and verify with
// every later version. IMMUDB_WRITE_GOLDEN=<dir> writes a fresh copy in the
// current format instead (only when the format changes, together with its
// documents).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "immudb/store.h"
#include "immudb/verify.h"
#include "store/verify_dir.h"
#include "testutil/test_util.h"

namespace immudb {
namespace {

// proofs.md §8 C0 Alh(8): the first 8 txs are chain C0 (version 0).
constexpr char kC0Alh8[] = "596b85e7ad484ccddd010112321f27168c5a467bc0524103aeb5e7797e5ea48d";

std::string Prefixed(const std::string& s) { return std::string(1, '\0') + s; }

std::vector<EntrySpec> ChainTx(int i) {
  std::vector<EntrySpec> es;
  for (int e = 0; e < (i % 3) + 1; e++) {
    es.push_back({Prefixed("k" + std::to_string(i) + "_" + std::to_string(e)),
                  Prefixed("v" + std::to_string(i) + "_" + std::to_string(e)),
                  {}});
  }
  return es;
}

// Txs 1..8: chain C0. Tx 9: a logical delete of k1_0 (version 1, metadata).
// Tx 10: a value of 3000 bytes with an expiry.
void WriteGolden(const std::string& dir) {
  StoreOptions o;
  auto clock = std::make_shared<int64_t>(1700000000);
  o.now_unix_seconds = [clock] { return ++*clock; };
  auto s = Store::Open(dir, o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  for (int i = 1; i <= 8; i++) ASSERT_TRUE((*s)->Commit(ChainTx(i)).ok());
  EntrySpec del{Prefixed("k1_0"), "", {}};
  del.md.deleted = true;
  ASSERT_TRUE((*s)->Commit({del}).ok());
  EntrySpec big{Prefixed("big"), Prefixed(std::string(3000, 'g')), {}};
  big.md.expires_at = 1800000000;
  ASSERT_TRUE((*s)->Commit({big}).ok());
  ASSERT_TRUE((*s)->Close().ok());
  std::filesystem::remove(dir + "/LOCK");
}

class GoldenTest : public ::testing::TestWithParam<int> {};

TEST_P(GoldenTest, StoreStillOpensReadsAndVerifies) {
  if (const char* out = std::getenv("IMMUDB_WRITE_GOLDEN")) {
    WriteGolden(out);
    GTEST_SKIP() << "wrote a golden store to " << out;
  }
  const std::string golden =
      std::string(IMMUDB_SOURCE_DIR) + "/testdata/golden/store-v" + std::to_string(GetParam());
  ASSERT_TRUE(std::filesystem::exists(golden)) << golden;
  testutil::TempDir d;
  const std::string dir = d.Sub("store");
  std::filesystem::copy(golden, dir, std::filesystem::copy_options::recursive);

  auto report = store::VerifyStoreDir(dir, {});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_TRUE(report->ok()) << report->mismatch->what;
  EXPECT_EQ(report->tx_count, 10u);

  auto s = Store::Open(dir, {});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE((*s)->RecoveryNotes().empty());
  ASSERT_EQ((*s)->CurrentState().tx_id, 10u);
  EXPECT_EQ(ToHex(*(*s)->TxAlh(8)), kC0Alh8);
  for (uint64_t id = 1; id <= 10; id++) {
    auto tx = (*s)->ReadTx(id);
    ASSERT_TRUE(tx.ok()) << tx.status().ToString();
    EXPECT_EQ(tx->header.ts, 1700000000 + static_cast<int64_t>(id));
    EXPECT_EQ(tx->header.version, id <= 8 ? 0 : 1);
    for (const TxEntry& e : tx->entries) ASSERT_TRUE((*s)->ReadValue(e).ok());
  }
  auto t9 = (*s)->ReadTx(9);
  EXPECT_TRUE(t9->entries[0].md.deleted);
  auto t10 = (*s)->ReadTx(10);
  EXPECT_EQ(t10->entries[0].md.expires_at, 1800000000);
  EXPECT_EQ(*(*s)->ReadValue(t10->entries[0]), Prefixed(std::string(3000, 'g')));
  auto h1 = (*s)->ReadTxHeader(1);
  auto h10 = (*s)->ReadTxHeader(10);
  auto p = (*s)->BuildDualProof(*h1, *h10);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(verify::VerifyDualProof(*p, 1, 10, *h1->Alh(), *h10->Alh()));
  // Still writable: the next commit chains onto the golden history.
  auto h11 = (*s)->Commit(ChainTx(11));
  ASSERT_TRUE(h11.ok());
  EXPECT_EQ(h11->prev_alh, *h10->Alh());
}

INSTANTIATE_TEST_SUITE_P(Formats, GoldenTest, ::testing::Values(1, 2, 3),
                         [](const auto& info) { return "Format" + std::to_string(info.param); });

}  // namespace
}  // namespace immudb
