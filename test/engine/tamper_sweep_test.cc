// Tamper sweep: flip one byte of a closed store, at many offsets of every file
// kind, and check that nothing wrong is ever returned as valid:
//  * Store::Open fails with Corruption, or every read either fails or returns
//    exactly what was committed (headers, entries, values, Alh);
//  * a dual proof the damaged store builds that verifies against the
//    ORIGINAL trusted Alh values carries the original headers;
//  * VerifyStoreDir flags every flipped byte and names the file and tx.
//
// No byte class escapes VerifyStoreDir: each byte of the commit log and of a
// tx record is under a CRC-32C (which detects every error in one byte) and
// in the Alh; every value-log byte lies inside exactly one value (values are
// checked to be back to back) and is hashed into its hval; every AHT byte is
// a digest compared with the recomputed tree or a CRC over such digests; the
// marker is compared whole.
//
// Every store is in a MemFileSystem so thousands of copies take seconds.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ahtree/ahtree_format.h"
#include "immudb/store.h"
#include "immudb/verify.h"
#include "store/log_format.h"
#include "store/verify_dir.h"
#include "testutil/test_util.h"

namespace immudb {
namespace {

constexpr uint64_t kTxs = 20;
constexpr char kDir[] = "/db";
const char* const kLogDirs[] = {"tx", "commit", "aht"};

// Optimized builds flip every byte of the commit, tx and value logs (a few
// seconds) and every 3rd or 7th byte in the longer sweeps; unoptimized and
// sanitizer builds, ten times slower per copy, five times fewer.
// IMMUDB_TAMPER_STRIDE sets one stride for every sweep (1 = every byte of
// every file), and IMMUDB_TAMPER_MASK the bits the single-bit sweeps flip
// (decimal, default 1; 128, 255, ...: a flip of the high bits of a length field
// makes it huge rather than off by one).
#if defined(__SANITIZE_ADDRESS__) || !defined(NDEBUG)
constexpr uint64_t kDefaultStride = 5;
#else
constexpr uint64_t kDefaultStride = 1;
#endif

uint64_t Stride(uint64_t base) {
  const int64_t s = testutil::EnvInt("IMMUDB_TAMPER_STRIDE", 0);
  return s > 0 ? static_cast<uint64_t>(s) : base * kDefaultStride;
}

uint8_t Mask() {
  const int64_t m = testutil::EnvInt("IMMUDB_TAMPER_MASK", 1);
  return m > 0 && m < 256 ? static_cast<uint8_t>(m) : 1;
}

struct Original {
  TxHeader header;
  std::vector<TxEntry> entries;
  std::vector<std::string> values;
  Hash alh{};
};

// What a byte flip at one offset of one file must be reported as.
struct Target {
  std::string file;  // Relative to the store directory.
  uint64_t offset;
  uint64_t tx_id;  // The tx whose data holds the byte; 0 for the marker.
};

bool SameEntries(const std::vector<TxEntry>& a, const std::vector<TxEntry>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++) {
    if (a[i].key != b[i].key || !(a[i].md == b[i].md) || a[i].hval != b[i].hval ||
        a[i].vlen != b[i].vlen || a[i].voff != b[i].voff) {
      return false;
    }
  }
  return true;
}

class TamperSweepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pristine_fs_ = NewMemFileSystem();
    BuildPristine();
    for (const char* sub : kLogDirs) {
      auto names = pristine_fs_->GetChildren(std::string(kDir) + "/" + sub);
      ASSERT_TRUE(names.ok());
      for (const std::string& n : *names) LoadFile(std::string(sub) + "/" + n);
    }
    LoadFile("IMMUDB_STORE");
    LoadFile("DURABLE");
  }

  void BuildPristine() {
    StoreOptions o = Options(pristine_fs_.get());
    auto s = Store::Open(kDir, o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    for (uint64_t i = 1; i <= kTxs; i++) {
      std::vector<EntrySpec> es;
      for (uint64_t k = 0; k <= i % 3; k++) {
        EntrySpec e;
        e.key = "k" + std::to_string(i) + "." + std::to_string(k);
        e.value = (i + k) % 4 == 0 ? "" : std::string(3 + (i * 7 + k) % 29, static_cast<char>(i));
        if (i % 4 == 1 && k == 0) e.md.expires_at = 1900000000 + static_cast<int64_t>(i);
        if (i % 6 == 0 && k == i % 3) e.md.deleted = true;
        if (i % 9 == 0) e.md.non_indexable = true;
        es.push_back(std::move(e));
      }
      auto h = (*s)->Commit(es);
      ASSERT_TRUE(h.ok()) << h.status().ToString();
      auto tx = (*s)->ReadTx(i);
      ASSERT_TRUE(tx.ok());
      Original orig{*h, tx->entries, {}, *h->Alh()};
      for (const EntrySpec& e : es) orig.values.push_back(e.value);
      originals_.push_back(std::move(orig));
    }
    ASSERT_TRUE((*s)->Close().ok());
  }

  static StoreOptions Options(FileSystem* fs) {
    StoreOptions o;
    o.fs = fs;
    auto t = std::make_shared<std::atomic<int64_t>>(1700000000);
    o.now_unix_seconds = [t] { return ++*t; };
    return o;
  }

  void LoadFile(const std::string& rel) {
    auto data = ReadFileToString(pristine_fs_.get(), std::string(kDir) + "/" + rel);
    ASSERT_TRUE(data.ok()) << rel;
    files_[rel] = *data;
  }

  const Original& Orig(uint64_t id) const { return originals_[id - 1]; }

  // A copy of the pristine store with one byte of `t.file` flipped.
  std::unique_ptr<FileSystem> TamperedCopy(const Target& t, uint8_t mask) const {
    auto fs = NewMemFileSystem();
    for (const char* sub : kLogDirs) EXPECT_TRUE(fs->CreateDir(std::string(kDir) + "/" + sub).ok());
    for (const auto& [rel, bytes] : files_) {
      std::string data = bytes;
      if (rel == t.file) data[t.offset] = static_cast<char>(data[t.offset] ^ mask);
      auto f = fs->OpenFile(std::string(kDir) + "/" + rel, /*create=*/true);
      EXPECT_TRUE(f.ok());
      EXPECT_TRUE((*f)->Append(data).ok());
      EXPECT_TRUE((*f)->Close().ok());
    }
    return fs;
  }

  // The tx owning each byte, from the pristine commit records.
  std::vector<Target> Targets(const std::string& sub, uint64_t stride) const {
    std::vector<Target> out;
    for (const auto& [rel, bytes] : files_) {
      if (rel.rfind(sub + "/", 0) != 0) continue;
      for (uint64_t off = 0; off < bytes.size(); off += stride) {
        out.push_back({rel, off, OwnerOf(sub, off)});
      }
    }
    return out;
  }

  uint64_t OwnerOf(const std::string& sub, uint64_t off) const {
    const std::string& clog = files_.at("commit/00000000.clog");
    for (uint64_t id = 1; id <= kTxs; id++) {
      auto rec = store::DecodeCommitRecord(
          reinterpret_cast<const uint8_t*>(clog.data() + (id - 1) * store::kCommitRecordSize));
      EXPECT_TRUE(rec.ok());
      uint64_t end = 0;
      if (sub == "commit") end = id * store::kCommitRecordSize;
      if (sub == "tx") end = rec->tx_off + rec->tx_len;
      if (sub == "val") end = rec->vlog_end;
      if (sub == "aht") end = ahtree::RecordOffset(id + 1);
      if (off < end) return id;
    }
    return 0;
  }

  // Runs every check on one damaged copy.
  void CheckOne(const Target& t, uint8_t mask) {
    SCOPED_TRACE(t.file + " offset " + std::to_string(t.offset) + " mask " + std::to_string(mask));
    auto fs = TamperedCopy(t, mask);
    CheckVerifierFlags(fs.get(), t);
    auto opened = Store::Open(kDir, Options(fs.get()));
    if (!opened.ok()) {
      if (t.file == "IMMUDB_STORE") {
        EXPECT_EQ(opened.status().code(), StatusCode::kFailedPrecondition);
      } else {
        EXPECT_TRUE(opened.status().IsCorruption()) << opened.status().ToString();
      }
      opens_failed_++;
      return;
    }
    CheckReads(**opened);
  }

  void CheckVerifierFlags(FileSystem* fs, const Target& t) {
    store::VerifyDirOptions vo;
    vo.fs = fs;
    auto r = store::VerifyStoreDir(kDir, vo);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_TRUE(r->mismatch.has_value()) << "flipped byte not detected";
    EXPECT_EQ(r->mismatch->file, t.file) << r->mismatch->ToString();
    EXPECT_EQ(r->mismatch->tx_id, t.tx_id) << r->mismatch->ToString();
  }

  void CheckReads(const Store& s) {
    const uint64_t last = s.CurrentState().tx_id;
    ASSERT_LE(last, kTxs);
    EXPECT_EQ(s.CurrentState().alh, last ? Orig(last).alh : EmptyHash());
    for (uint64_t id = 1; id <= kTxs; id++) {
      auto alh = s.TxAlh(id);
      if (alh.ok()) {
        EXPECT_EQ(*alh, Orig(id).alh);
      }
      auto tx = s.ReadTx(id);
      if (!tx.ok()) {
        EXPECT_TRUE(tx.status().IsCorruption() || tx.status().IsNotFound())
            << tx.status().ToString();
        continue;
      }
      reads_ok_++;
      EXPECT_EQ(tx->header, Orig(id).header);
      EXPECT_TRUE(SameEntries(tx->entries, Orig(id).entries)) << "tx " << id;
      for (size_t k = 0; k < tx->entries.size(); k++) {
        auto v = s.ReadValue(tx->entries[k]);
        if (v.ok()) {
          EXPECT_EQ(*v, Orig(id).values[k]) << "tx " << id << " entry " << k;
        } else {
          EXPECT_TRUE(v.status().IsCorruption()) << v.status().ToString();
        }
      }
    }
    for (uint64_t id = 1; id <= last; id++) CheckDualProof(s, id, last);
  }

  // A proof built from damaged data must not verify against the original
  // Alh values unless it carries the original headers.
  void CheckDualProof(const Store& s, uint64_t id, uint64_t last) {
    auto src = s.ReadTxHeader(id);
    auto tgt = s.ReadTxHeader(last);
    if (!src.ok() || !tgt.ok()) return;
    auto p = s.BuildDualProof(*src, *tgt);
    if (!p.ok()) return;
    if (!verify::VerifyDualProof(*p, id, last, Orig(id).alh, Orig(last).alh)) return;
    proofs_ok_++;
    EXPECT_EQ(p->source_tx_header, Orig(id).header);
    EXPECT_EQ(p->target_tx_header, Orig(last).header);
  }

  void Sweep(const std::vector<Target>& targets, uint8_t mask = Mask()) {
    ASSERT_FALSE(targets.empty());
    for (const Target& t : targets) {
      CheckOne(t, mask);
      if (HasFailure()) return;  // One report, not thousands.
    }
  }

  void TearDown() override {
    std::fprintf(stderr,
                 "  copies: opens failed %llu, txs read back intact %llu, "
                 "dual proofs verified %llu\n",
                 static_cast<unsigned long long>(opens_failed_),
                 static_cast<unsigned long long>(reads_ok_),
                 static_cast<unsigned long long>(proofs_ok_));
  }

  std::unique_ptr<FileSystem> pristine_fs_;
  std::vector<Original> originals_;
  std::map<std::string, std::string> files_;
  uint64_t opens_failed_ = 0;
  uint64_t reads_ok_ = 0;
  uint64_t proofs_ok_ = 0;
};

TEST_F(TamperSweepTest, CleanCopyReadsAndVerifiesEverything) {
  auto fs = TamperedCopy({"none", 0, 0}, 0);
  store::VerifyDirOptions vo;
  vo.fs = fs.get();
  auto r = store::VerifyStoreDir(kDir, vo);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->ok()) << r->mismatch->ToString();
  EXPECT_EQ(r->tx_count, kTxs);
  auto s = Store::Open(kDir, Options(fs.get()));
  ASSERT_TRUE(s.ok());
  CheckReads(**s);
  EXPECT_EQ(reads_ok_, kTxs);
  EXPECT_EQ(proofs_ok_, kTxs);
}

// The commit log is derived from the tx log (format 3): damage to its last
// record is repaired on open, damage elsewhere fails the reads that need it.
TEST_F(TamperSweepTest, EveryCommitLogByte) { Sweep(Targets("commit", Stride(1))); }

TEST_F(TamperSweepTest, EveryTxLogByte) { Sweep(Targets("tx", Stride(1))); }

// The AHT is synced lazily, so all of this small one lies in its torn
// window: every damaged copy is repaired on open (leaves appended again from
// the commit log) and every tx reads back and proves.
TEST_F(TamperSweepTest, AhtBytes) {
  const std::vector<Target> targets = Targets("aht", Stride(3));
  Sweep(targets);
  EXPECT_EQ(opens_failed_, 0u);
  EXPECT_EQ(proofs_ok_, targets.size() * kTxs);
}

TEST_F(TamperSweepTest, MarkerBytes) {
  std::vector<Target> targets;
  for (uint64_t off = 0; off < files_.at("IMMUDB_STORE").size(); off++) {
    targets.push_back({"IMMUDB_STORE", off, 0});
  }
  Sweep(targets);
  EXPECT_EQ(opens_failed_, targets.size());
}

// The durable mark of the clean close is a hint: a damaged one is ignored
// on open (everything reads back) and named by the verifier.
TEST_F(TamperSweepTest, DurableMarkBytes) {
  std::vector<Target> targets;
  for (uint64_t off = 0; off < files_.at("DURABLE").size(); off++) {
    targets.push_back({"DURABLE", off, 0});
  }
  Sweep(targets);
  EXPECT_EQ(opens_failed_, 0u);
  EXPECT_EQ(proofs_ok_, targets.size() * kTxs);
}

// Other flip patterns than a single bit, at a spread of offsets.
TEST_F(TamperSweepTest, WholeByteFlipsAcrossAllLogs) {
  for (const char* sub : kLogDirs) Sweep(Targets(sub, Stride(7)), 0xff);
}

}  // namespace
}  // namespace immudb
