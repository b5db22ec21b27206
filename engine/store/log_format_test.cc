#include "store/log_format.h"

#include <gtest/gtest.h>

#include <random>

#include "store/store_impl.h"
#include "util/coding.h"

namespace immudb::store {
namespace {

Tx SampleTx() {
  Tx tx;
  tx.header.id = 1;
  tx.header.ts = 1700000001;
  tx.header.version = 0;
  tx.header.nentries = 1;
  tx.header.prev_alh = EmptyHash();
  tx.header.eh = Sha256Of("eh");
  TxEntry e;
  e.key = "k";
  e.vlen = 1;
  e.voff = 0;
  e.hval = Sha256Of("v");
  tx.entries.push_back(e);
  return tx;
}

std::string Payload(const Tx& tx) {
  std::string p;
  EncodeTxHeader(tx.header, &p);
  for (const TxEntry& e : tx.entries) EncodeTxEntry(e, &p);
  return p;
}

TEST(LogFormatTest, TxRecordLayoutMatchesTheDocument) {
  Tx tx = SampleTx();
  std::string payload = Payload(tx);
  ASSERT_EQ(payload.size(), 174u);  // docs/format/txlog.md example
  std::string rec = FrameTxRecord(payload);
  ASSERT_EQ(rec.size(), 182u);
  const auto* p = reinterpret_cast<const uint8_t*>(rec.data());
  EXPECT_EQ(GetU32BE(p), 174u);
  EXPECT_EQ(GetU64BE(p + 8), 1u);
  EXPECT_EQ(GetU64BE(p + 16), 1700000001u);
  EXPECT_EQ(GetU16BE(p + 24), 0u);
  EXPECT_EQ(GetU32BE(p + 26), 1u);
  EXPECT_EQ(ToHex(p + 8 + 62, 32), ToHex(EmptyHash()));  // prev_alh
  EXPECT_EQ(ToHex(p + 8 + 126, 3), "00016b");            // key_len, key
  EXPECT_EQ(p[8 + 129], 0);                              // md_len
}

TEST(LogFormatTest, TxPayloadRoundTripsWithMetadata) {
  Tx tx = SampleTx();
  tx.header.version = 1;
  tx.entries[0].md.deleted = true;
  tx.entries[0].md.expires_at = 1700000000;
  TxEntry e2;
  e2.key = std::string(300, 'z');
  e2.vlen = 7;
  e2.voff = 123456789012ull;
  e2.hval = Sha256Of("x");
  tx.entries.push_back(e2);
  tx.header.nentries = 2;
  auto back = DecodeTxPayload(Payload(tx));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->header, tx.header);
  ASSERT_EQ(back->entries.size(), 2u);
  EXPECT_EQ(back->entries[0].md, tx.entries[0].md);
  EXPECT_EQ(back->entries[1].key, e2.key);
  EXPECT_EQ(back->entries[1].voff, e2.voff);
  EXPECT_EQ(back->entries[1].hval, e2.hval);
}

TEST(LogFormatTest, MalformedPayloadsAreCorruption) {
  std::string p = Payload(SampleTx());
  // Every truncation fails, never reads past the end.
  for (size_t n = 0; n < p.size(); n++) {
    EXPECT_TRUE(DecodeTxPayload(p.substr(0, n)).status().IsCorruption()) << n;
  }
  EXPECT_TRUE(DecodeTxPayload(p + "x").status().IsCorruption());
  std::string huge = p;
  PutU32BE(reinterpret_cast<uint8_t*>(huge.data()) + 18, 0xffffffffu);  // nentries
  EXPECT_TRUE(DecodeTxPayload(huge).status().IsCorruption());
}

TEST(LogFormatTest, CommitRecordChecksumCoversEveryByte) {
  CommitRecord r;
  r.tx_id = 7;
  r.durable_upto = 5;
  r.tx_off = 1000;
  r.tx_len = 182;
  r.vlog_end = 99;
  r.alh = Sha256Of("alh");
  uint8_t buf[kCommitRecordSize];
  EncodeCommitRecord(r, buf);
  auto back = DecodeCommitRecord(buf);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->tx_id, 7u);
  EXPECT_EQ(back->durable_upto, 5u);
  EXPECT_EQ(back->tx_off, 1000u);
  EXPECT_EQ(back->tx_len, 182u);
  EXPECT_EQ(back->vlog_end, 99u);
  EXPECT_EQ(back->alh, r.alh);
  for (size_t i = 0; i < kCommitRecordSize; i++) {
    uint8_t bad[kCommitRecordSize];
    std::copy(buf, buf + kCommitRecordSize, bad);
    bad[i] ^= 0x01;
    EXPECT_TRUE(DecodeCommitRecord(bad).status().IsCorruption()) << i;
  }
}

// The leader's running count of the AHT's bytes against the closed form, on
// single steps, repeats, jumps of a batch and a drop (a reopened store).
TEST(AhtBytesTest, MatchesRecordOffset) {
  store::AhtBytes b;
  std::mt19937_64 rng(3);
  uint64_t m = 0;
  for (int i = 0; i < 20000; i++) {
    const uint64_t r = rng() % 100;
    if (r < 80) {
      m++;
    } else if (r < 90) {
      // The same size again.
    } else if (r < 98) {
      m += rng() % 5000;
    } else {
      m = rng() % (m + 1);
    }
    ASSERT_EQ(b.At(m), ahtree::RecordOffset(m + 1)) << "leaves " << m;
  }
}

}  // namespace
}  // namespace immudb::store
