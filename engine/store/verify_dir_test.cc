#include "store/verify_dir.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ahtree/ahtree_format.h"
#include "immudb/store.h"
#include "store/log_format.h"
#include "testutil/fault_fs.h"
#include "testutil/test_util.h"
#include "util/coding.h"
#include "util/crc32c.h"

namespace immudb::store {
namespace {

using testutil::TempDir;

constexpr uint64_t kTxs = 24;

using testutil::ReadAll;
using testutil::WriteAll;

void FlipByte(const std::string& path, uint64_t off) {
  ASSERT_TRUE(testutil::FlipByte(path, off, 0x5a)) << path << " offset " << off;
}

StoreOptions TestOptions() {
  StoreOptions o;
  auto t = std::make_shared<std::atomic<int64_t>>(1700000000);
  o.now_unix_seconds = [t] { return ++*t; };
  return o;
}

// Commits kTxs transactions of 1-4 entries: empty values, a value larger than
// the read-ahead chunk, and entries with metadata (header version 1).
void BuildStore(const std::string& dir, const StoreOptions& o) {
  auto s = Store::Open(dir, o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  for (uint64_t i = 1; i <= kTxs; i++) {
    std::vector<EntrySpec> es;
    for (uint64_t k = 0; k <= i % 4; k++) {
      EntrySpec e;
      e.key = "key-" + std::to_string(i) + "-" + std::to_string(k);
      e.value = k == 2 ? "" : std::string(i == 10 ? 100000 : 5 + k, static_cast<char>('a' + i));
      if (i % 5 == 0 && k == 0) e.md.expires_at = 1800000000 + static_cast<int64_t>(i);
      if (i % 7 == 0 && k == 1) e.md.deleted = true;
      es.push_back(std::move(e));
    }
    ASSERT_TRUE((*s)->Commit(std::move(es)).ok());
  }
  ASSERT_TRUE((*s)->Close().ok());
}

CommitRecord RecordOf(const std::string& dir, uint64_t id) {
  const std::string clog = ReadAll(dir + "/commit/00000000.clog");
  auto rec = DecodeCommitRecord(
      reinterpret_cast<const uint8_t*>(clog.data() + (id - 1) * kCommitRecordSize));
  EXPECT_TRUE(rec.ok());
  return rec.ok() ? *rec : CommitRecord{};
}

VerifyReport MustVerify(const std::string& dir) {
  auto r = VerifyStoreDir(dir, VerifyDirOptions{});
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : VerifyReport{};
}

uint64_t TreeBytes(const std::string& dir) {
  uint64_t n = 0;
  for (const char* sub : {"tx", "commit", "aht"}) {
    for (const auto& f : std::filesystem::directory_iterator(dir + "/" + sub)) n += f.file_size();
  }
  if (std::filesystem::exists(dir + "/DURABLE")) n += std::filesystem::file_size(dir + "/DURABLE");
  return n;
}

class VerifyDirTest : public ::testing::Test {
 protected:
  void SetUp() override { BuildStore(d_.path(), TestOptions()); }
  std::string Path(const std::string& rel) const { return d_.Sub(rel); }

  // Verifies, expects the first mismatch at tx `tx`, in `file` at `offset`.
  void ExpectMismatch(uint64_t tx, const std::string& file, uint64_t offset) {
    VerifyReport r = MustVerify(d_.path());
    ASSERT_TRUE(r.mismatch.has_value());
    EXPECT_EQ(r.mismatch->tx_id, tx) << r.mismatch->ToString();
    EXPECT_EQ(r.mismatch->file, file) << r.mismatch->ToString();
    EXPECT_EQ(r.mismatch->offset, offset) << r.mismatch->ToString();
    EXPECT_EQ(r.tx_count, tx - 1);
  }

  TempDir d_;
};

TEST_F(VerifyDirTest, CleanStoreVerifiesEveryByte) {
  VerifyReport r = MustVerify(d_.path());
  ASSERT_TRUE(r.ok()) << r.mismatch->ToString();
  EXPECT_EQ(r.tx_count, kTxs);
  EXPECT_EQ(r.bytes_checked, TreeBytes(d_.path()));
  auto s = Store::Open(d_.path(), TestOptions());
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(r.last_alh, (*s)->CurrentState().alh);
}

TEST_F(VerifyDirTest, VerifyingChangesNoFile) {
  // A torn tail the verifier reports but, unlike Store::Open, must not cut.
  const std::string tx = Path("tx/00000000.tx");
  WriteAll(tx, ReadAll(tx) + "torn");
  std::vector<std::string> before;
  for (const char* f :
       {"tx/00000000.tx", "commit/00000000.clog", "aht/00000000.aht", "IMMUDB_STORE"}) {
    before.push_back(ReadAll(Path(f)));
  }
  VerifyReport r = MustVerify(d_.path());
  ASSERT_TRUE(r.mismatch.has_value());
  EXPECT_EQ(r.tx_count, kTxs);
  EXPECT_EQ(r.mismatch->tx_id, 0u);
  EXPECT_EQ(r.mismatch->file, "tx/00000000.tx");
  EXPECT_TRUE(r.mismatch->maybe_torn_tail);
  size_t i = 0;
  for (const char* f :
       {"tx/00000000.tx", "commit/00000000.clog", "aht/00000000.aht", "IMMUDB_STORE"}) {
    EXPECT_EQ(ReadAll(Path(f)), before[i++]) << f;
  }
}

// Format 3: a tx's values lie in the tx log between the previous tx record
// (and their length frame) and its own record.
TEST_F(VerifyDirTest, FlippedValueByteNamesTxAndValue) {
  CommitRecord rec = RecordOf(d_.path(), 10);
  CommitRecord prev = RecordOf(d_.path(), 9);
  const uint64_t start = prev.tx_off + prev.tx_len + store::kTxValuesFrameSize;
  FlipByte(Path("tx/00000000.tx"), start + 77777);
  ExpectMismatch(10, "tx/00000000.tx", start);
  EXPECT_GT(rec.vlog_end, start + 77777);
  EXPECT_EQ(rec.tx_off, rec.vlog_end);
  VerifyReport r = MustVerify(d_.path());
  EXPECT_EQ(r.mismatch->ToString(), "tx 10: value log tx/00000000.tx offset " +
                                        std::to_string(start) + ": value does not match its hash");
}

TEST_F(VerifyDirTest, FlippedTxLogByteNamesTx) {
  CommitRecord rec = RecordOf(d_.path(), 6);
  FlipByte(Path("tx/00000000.tx"), rec.tx_off + 40);
  ExpectMismatch(6, "tx/00000000.tx", rec.tx_off + 4);  // The checksum field.
}

TEST_F(VerifyDirTest, FlippedTxRecordLengthNamesTx) {
  CommitRecord rec = RecordOf(d_.path(), 3);
  FlipByte(Path("tx/00000000.tx"), rec.tx_off + 2);
  ExpectMismatch(3, "tx/00000000.tx", rec.tx_off);
}

TEST_F(VerifyDirTest, FlippedCommitLogByteNamesTx) {
  FlipByte(Path("commit/00000000.clog"), 8 * kCommitRecordSize + 50);
  ExpectMismatch(9, "commit/00000000.clog", 8 * kCommitRecordSize);
}

TEST_F(VerifyDirTest, FlippedAhtDigestNamesLeaf) {
  // Leaf 12 has popcount(11) + 1 = 4 digests; damage the third.
  FlipByte(Path("aht/00000000.aht"), ahtree::RecordOffset(12) + 2 * 32 + 7);
  ExpectMismatch(12, "aht/00000000.aht", ahtree::RecordOffset(12) + 2 * 32);
}

TEST_F(VerifyDirTest, FlippedAhtChecksumNamesLeaf) {
  const uint64_t crc = ahtree::RecordOffset(kTxs) + ahtree::RecordSize(kTxs) - 4;
  FlipByte(Path("aht/00000000.aht"), crc + 3);
  ExpectMismatch(kTxs, "aht/00000000.aht", crc);
  EXPECT_TRUE(MustVerify(d_.path()).mismatch->maybe_torn_tail);
}

// Damage with valid checksums is still found by the hashes.
TEST_F(VerifyDirTest, RechecksummedHeaderChangeBreaksTheAlh) {
  CommitRecord rec = RecordOf(d_.path(), 4);
  std::string tx = ReadAll(Path("tx/00000000.tx"));
  tx[rec.tx_off + kTxRecordPrefixSize + 15] ^= 1;  // Timestamp, one second later.
  PutU32BE(reinterpret_cast<uint8_t*>(tx.data() + rec.tx_off + 4),
           crc32c::Mask(crc32c::Value(tx.data() + rec.tx_off + 8, rec.tx_len - 8)));
  WriteAll(Path("tx/00000000.tx"), tx);
  ExpectMismatch(4, "commit/00000000.clog", 3 * kCommitRecordSize + 36);
}

TEST_F(VerifyDirTest, RechecksummedAlhChangeBreaksTheChain) {
  // Make commit record 7 agree with a changed tx 7 header: the next tx's
  // PrevAlh (and the AHT) still hold the old Alh.
  CommitRecord rec = RecordOf(d_.path(), 7);
  std::string tx = ReadAll(Path("tx/00000000.tx"));
  tx[rec.tx_off + kTxRecordPrefixSize + 15] ^= 1;
  PutU32BE(reinterpret_cast<uint8_t*>(tx.data() + rec.tx_off + 4),
           crc32c::Mask(crc32c::Value(tx.data() + rec.tx_off + 8, rec.tx_len - 8)));
  WriteAll(Path("tx/00000000.tx"), tx);
  auto h = DecodeTxHeader(std::string_view(tx).substr(rec.tx_off + 8));
  ASSERT_TRUE(h.ok());
  rec.alh = *h->Alh();
  std::string clog = ReadAll(Path("commit/00000000.clog"));
  EncodeCommitRecord(rec, reinterpret_cast<uint8_t*>(clog.data() + 6 * kCommitRecordSize));
  WriteAll(Path("commit/00000000.clog"), clog);
  // The AHT leaf of tx 7 no longer matches the recomputed tree.
  ExpectMismatch(7, "aht/00000000.aht", ahtree::RecordOffset(7));
}

TEST_F(VerifyDirTest, RechecksummedAhtRecordIsRecomputed) {
  std::string aht = ReadAll(Path("aht/00000000.aht"));
  const uint64_t off = ahtree::RecordOffset(5);
  const uint64_t body = ahtree::RecordSize(5) - 4;
  aht[off + body - 1] ^= 1;  // Root(5).
  PutU32BE(reinterpret_cast<uint8_t*>(aht.data() + off + body),
           crc32c::Mask(crc32c::Value(aht.data() + off, body)));
  WriteAll(Path("aht/00000000.aht"), aht);
  ExpectMismatch(5, "aht/00000000.aht", off + body - 32);
}

TEST_F(VerifyDirTest, MissingMarkerOrSegmentIsAMismatch) {
  std::filesystem::rename(Path("tx/00000000.tx"), Path("tx/00000001.tx"));
  VerifyReport r = MustVerify(d_.path());
  ASSERT_TRUE(r.mismatch.has_value());
  EXPECT_EQ(r.mismatch->file, "tx/00000000.tx");
  std::filesystem::remove(Path("IMMUDB_STORE"));
  r = MustVerify(d_.path());
  ASSERT_TRUE(r.mismatch.has_value());
  EXPECT_EQ(r.mismatch->file, "IMMUDB_STORE");
  EXPECT_FALSE(r.mismatch->maybe_torn_tail);
}

TEST(VerifyDirBasicTest, EmptyStoreVerifiesAndMissingDirIsNotFound) {
  TempDir d;
  {
    auto s = Store::Open(d.path(), StoreOptions{});
    ASSERT_TRUE(s.ok());
  }
  VerifyReport r = MustVerify(d.path());
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.tx_count, 0u);
  EXPECT_EQ(r.last_alh, EmptyHash());
  EXPECT_TRUE(VerifyStoreDir(d.Sub("nope"), VerifyDirOptions{}).status().IsNotFound());
}

TEST(VerifyDirBasicTest, SmallSegmentsVerifyAndDamageNamesTheSegment) {
  TempDir d;
  StoreOptions o = TestOptions();
  o.tx_log_segment_size = 4096;
  o.commit_log_segment_size = 5 * kCommitRecordSize;
  o.aht_segment_size = 300;
  BuildStore(d.path(), o);
  VerifyReport r = MustVerify(d.path());
  ASSERT_TRUE(r.ok()) << r.mismatch->ToString();
  EXPECT_EQ(r.tx_count, kTxs);
  EXPECT_EQ(r.bytes_checked, TreeBytes(d.path()));

  // Commit record 13 is the third of segment 2.
  FlipByte(d.Sub("commit/00000002.clog"), 2 * kCommitRecordSize + 1);
  r = MustVerify(d.path());
  ASSERT_TRUE(r.mismatch.has_value());
  EXPECT_EQ(r.mismatch->tx_id, 13u);
  EXPECT_EQ(r.mismatch->file, "commit/00000002.clog");
  EXPECT_EQ(r.mismatch->offset, 2 * kCommitRecordSize);
}

TEST(VerifyDirBasicTest, MemFileSystemStore) {
  auto fs = NewMemFileSystem();
  StoreOptions o = TestOptions();
  o.fs = fs.get();
  BuildStore("/db", o);
  VerifyDirOptions vo;
  vo.fs = fs.get();
  auto r = VerifyStoreDir("/db", vo);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok());
  EXPECT_EQ(r->tx_count, kTxs);
}

// Power cuts while commits run (synced and unsynced, torn last writes with
// garbage), recoveries, and concurrent commits across small segments: every
// store the engine leaves after a reopen verifies, and a crashed store fails
// only where a torn tail is possible.
TEST(VerifyDirBasicTest, StoresRecoveredFromCrashesVerify) {
  auto mem = NewMemFileSystem();
  testutil::FaultInjectionFileSystem fs(mem.get());
  StoreOptions o = TestOptions();
  o.fs = &fs;
  o.unsynced_sync_interval_ms = 1;
  o.tx_log_segment_size = 1500;
  o.commit_log_segment_size = 7 * kCommitRecordSize;
  o.aht_segment_size = 700;
  VerifyDirOptions vo;
  vo.fs = mem.get();
  uint64_t torn = 0;
  for (uint64_t round = 1; round <= 24; round++) {
    SCOPED_TRACE("round " + std::to_string(round));
    o.synced = round % 3 != 0;
    auto s = Store::Open("/db", o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    auto r = VerifyStoreDir("/db", vo);
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE(r->ok()) << r->mismatch->ToString();
    EXPECT_EQ(r->tx_count, (*s)->CurrentState().tx_id);
    const bool crash = round % 4 != 0;
    std::vector<std::thread> writers;
    for (int t = 0; t < 3; t++) {
      writers.emplace_back([&, t] {
        for (uint64_t i = 0; i < 6; i++) {
          EntrySpec e{
              "w" + std::to_string(t) + "-" + std::to_string(round) + "-" + std::to_string(i),
              std::string(20 + 13 * i, 'x'),
              {}};
          if (i % 2 == 1) e.md.non_indexable = true;
          // Fails once the power is cut.
          (void)(*s)->Commit({e, EntrySpec{"same-" + std::to_string(t), "", {}}});
        }
      });
    }
    if (crash) {
      std::this_thread::sleep_for(std::chrono::microseconds(100 * (round % 7)));
      fs.SetActive(false);
    }
    for (auto& w : writers) w.join();
    if (!crash) {
      ASSERT_TRUE((*s)->Close().ok());
      continue;
    }
    s = Status::Aborted("dropped");  // Destroys the store while the power is off.
    testutil::DropOptions drop;
    drop.tear_last_write = true;
    drop.garbage = round % 2 == 1;
    drop.seed = round;
    ASSERT_TRUE(fs.DropUnsyncedData(drop).ok());
    fs.SetActive(true);
    r = VerifyStoreDir("/db", vo);
    ASSERT_TRUE(r.ok());
    if (!r->ok()) {
      torn++;
      EXPECT_TRUE(r->mismatch->maybe_torn_tail) << r->mismatch->ToString();
    }
  }
  std::fprintf(stderr, "  crashed stores with a torn tail: %llu\n",
               static_cast<unsigned long long>(torn));
}

}  // namespace
}  // namespace immudb::store

namespace immudb::store {
namespace {

// Format 3 keeps zeros written ahead of the tx log's data, which a crash
// leaves in the file: they are not damage. A non-zero byte among them is.
TEST(VerifyDirZerosTest, ZerosAfterTheTxLogAreNotDamage) {
  TempDir d;
  BuildStore(d.path(), TestOptions());
  const std::string tx = d.path() + "/tx/00000000.tx";
  const std::string data = ReadAll(tx);
  WriteAll(tx, data + std::string(100000, '\0'));
  VerifyReport r = MustVerify(d.path());
  EXPECT_TRUE(r.ok()) << r.mismatch->ToString();
  WriteAll(tx, data + std::string(50000, '\0') + "x" + std::string(100, '\0'));
  r = MustVerify(d.path());
  ASSERT_TRUE(r.mismatch.has_value());
  EXPECT_EQ(r.mismatch->file, "tx/00000000.tx");
  EXPECT_EQ(r.mismatch->offset, data.size());
  EXPECT_TRUE(r.mismatch->maybe_torn_tail);
}

}  // namespace
}  // namespace immudb::store
