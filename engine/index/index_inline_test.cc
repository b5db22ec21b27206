// Latest records that carry their value (docs/format/index.md, "Records").
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <string>
#include <vector>

#include "immudb/hash.h"
#include "index/index.h"
#include "index/index_format.h"
#include "index/index_raw_test_util.h"
#include "index/index_test_util.h"

namespace immudb::index {
namespace {

using testing_index::Kv;

class IndexInlineTest : public testing_index::IndexFixture {
 protected:
  std::unique_ptr<Index> OpenIndex(uint32_t inline_max = 128) {
    IndexOptions o;
    o.inline_value_max_bytes = inline_max;
    return IndexFixture::OpenIndex(o);
  }
  // Reads the raw RocksDB value of `db_key` with the index closed.
  std::string RawRecord(const std::string& db_key) {
    testing_index::RawIndexDb db(dir_.Sub("store/index"));
    EXPECT_TRUE(db.ok());
    std::string v;
    EXPECT_TRUE(db.Get(db_key, &v));
    return v;
  }
  bool RawRecordExists(const std::string& db_key) {
    testing_index::RawIndexDb db(dir_.Sub("store/index"));
    EXPECT_TRUE(db.ok());
    std::string v;
    return db.Get(db_key, &v);
  }
  void PutRaw(const std::string& db_key, const std::string& value) {
    testing_index::RawIndexDb db(dir_.Sub("store/index"));
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(db.Put(db_key, value));
  }
};

// Sizes around the default threshold of 128 bytes, and an empty value.
const std::vector<size_t> kSizes = {0, 1, 100, 127, 128, 129, 1000};

std::string ValueOfSize(size_t n, char c) { return std::string(n, c); }

TEST(IndexRecordFormat, InlineAndPlainRecordsRoundTrip) {
  for (size_t n : {size_t{1}, size_t{128}, size_t{4000}}) {
    for (bool with_md : {false, true}) {
      IndexedEntry e;
      e.tx = 77;
      e.index = 3;
      e.revision = 5;
      e.entry.key = "k";
      if (with_md) e.entry.md.expires_at = 123456;
      const std::string value = ValueOfSize(n, 'q');
      e.entry.hval = Sha256Of(value);
      e.entry.vlen = static_cast<uint32_t>(n);
      e.entry.voff = 999;
      const std::string plain = EncodeRecord(e);
      e.value_inline = true;
      e.value = value;
      const std::string inl = EncodeRecord(e);
      ASSERT_EQ(inl.size(), plain.size() + n);
      ASSERT_EQ(inl.substr(0, plain.size()), plain);  // The fields, then the value.
      for (const std::string* rec : {&plain, &inl}) {
        IndexedEntry d;
        ASSERT_TRUE(DecodeRecord("k", *rec, &d).ok());
        EXPECT_EQ(d.tx, 77u);
        EXPECT_EQ(d.index, 3u);
        EXPECT_EQ(d.revision, 5u);
        EXPECT_EQ(d.entry.md, e.entry.md);
        EXPECT_EQ(d.entry.hval, e.entry.hval);
        EXPECT_EQ(d.entry.vlen, n);
        EXPECT_EQ(d.entry.voff, 999u);
        EXPECT_EQ(d.value_inline, rec == &inl);
        EXPECT_EQ(d.value, rec == &inl ? value : "");
        EXPECT_EQ(*DecodeRevision(*rec), 5u);
      }
      // Any other length is malformed: one byte short of the inline value,
      // one byte past it, a byte past the plain record.
      IndexedEntry d;
      for (const std::string& bad :
           {inl.substr(0, inl.size() - 1), inl + "x", plain.substr(0, plain.size() - 1)}) {
        if (bad.size() == plain.size()) continue;  // n == 1: the plain record itself.
        EXPECT_TRUE(DecodeRecord("k", bad, &d).IsCorruption()) << bad.size();
        EXPECT_TRUE(DecodeRevision(bad).status().IsCorruption()) << bad.size();
      }
    }
  }
  // An empty value has nothing to inline: its record is the plain one.
  IndexedEntry e;
  e.entry.hval = Sha256Of("");
  e.value_inline = true;
  IndexedEntry d;
  ASSERT_TRUE(DecodeRecord("k", EncodeRecord(e), &d).ok());
  EXPECT_FALSE(d.value_inline);
  EXPECT_EQ(EncodeRecord(e).size(), kRecordFixedSize);
}

TEST_F(IndexInlineTest, LatestRecordsCarrySmallValuesHistoryRecordsDoNot) {
  uint64_t t = 0;
  std::vector<uint64_t> first_tx;
  {
    auto ix = OpenIndex();
    for (size_t i = 0; i < kSizes.size(); i++) {
      first_tx.push_back(Commit({Kv("k" + std::to_string(i), ValueOfSize(kSizes[i], 'a'))}));
    }
    // One tx with every size: values back to back in the log; then an
    // expiring and a deleted entry.
    std::vector<EntrySpec> es;
    for (size_t i = 0; i < kSizes.size(); i++) {
      es.push_back(Kv("m" + std::to_string(i), ValueOfSize(kSizes[i], 'b')));
    }
    KVMetadata exp;
    exp.expires_at = 1;
    es.push_back(Kv("x", "expiring", exp));
    KVMetadata del;
    del.deleted = true;
    es.push_back(Kv("y", "", del));
    t = Commit(std::move(es));
    ASSERT_TRUE(ix->WaitFor(t, 5000).ok());

    for (int round = 0; round < 2; round++) {
      for (size_t i = 0; i < kSizes.size(); i++) {
        const bool small = kSizes[i] > 0 && kSizes[i] <= 128;
        for (char c : {'a', 'b'}) {
          const std::string key = (c == 'a' ? "k" : "m") + std::to_string(i);
          auto e = ix->Get(key);
          ASSERT_TRUE(e.ok()) << key << ": " << e.status().ToString();
          EXPECT_EQ(e->value_inline, small) << key;
          EXPECT_EQ(e->value, small ? ValueOfSize(kSizes[i], c) : "") << key;
          EXPECT_EQ(*store_->ReadValue(e->entry), ValueOfSize(kSizes[i], c)) << key;
        }
      }
      auto x = ix->Get("x");
      ASSERT_TRUE(x.ok());
      EXPECT_TRUE(x->value_inline);
      EXPECT_EQ(x->value, "expiring");
      EXPECT_EQ(x->entry.md.expires_at, 1);
      auto y = ix->Get("y");
      ASSERT_TRUE(y.ok());
      EXPECT_FALSE(y->value_inline);
      EXPECT_TRUE(y->entry.md.deleted);
      // A scan sees the same latest records.
      int scanned = 0;
      ASSERT_TRUE(ix->Scan(ScanSpec{"m", "", false, "", false, false}, [&](const IndexedEntry& e) {
                      const size_t i = std::stoul(e.entry.key.substr(1));
                      EXPECT_EQ(e.value_inline, kSizes[i] > 0 && kSizes[i] <= 128);
                      if (e.value_inline) {
                        EXPECT_EQ(e.value, ValueOfSize(kSizes[i], 'b'));
                      }
                      scanned++;
                      return true;
                    }).ok());
      EXPECT_EQ(scanned, static_cast<int>(kSizes.size()));
      if (round == 0) {  // The same after a reopen (files, not memtables).
        ASSERT_TRUE(ix->Close().ok());
        ix = OpenIndex();
        ASSERT_FALSE(ix->rebuilt_on_open());
      }
    }
    // A new version replaces the latest record, inline or not.
    const uint64_t t2 = Commit({Kv("k2", ValueOfSize(1000, 'c')), Kv("k6", "small now")});
    ASSERT_TRUE(ix->WaitFor(t2, 5000).ok());
    EXPECT_FALSE(ix->Get("k2")->value_inline);
    EXPECT_EQ(ix->Get("k6")->value, "small now");
    EXPECT_EQ(ix->Get("k6")->revision, 2u);
    // History records never carry the value.
    auto h = ix->History("k6", 0, 10, false);
    ASSERT_TRUE(h.ok());
    ASSERT_EQ(h->size(), 2u);
    for (const IndexedEntry& e : *h) EXPECT_FALSE(e.value_inline);
    EXPECT_EQ(*store_->ReadValue((*h)[1].entry), "small now");
    EXPECT_EQ((*h)[0].tx, first_tx[6]);
    EXPECT_FALSE(ix->GetRevision("k1", 1)->value_inline);
    ASSERT_TRUE(ix->Close().ok());
  }
  // The raw 'H' record of a small value is the plain one; a key of one
  // version has its 'L' record only.
  const std::string hrec = RawRecord(HistoryKey("k6", 2));
  EXPECT_EQ(hrec.size(), kRecordFixedSize);
  EXPECT_EQ(RawRecord(LatestKey("k6")).size(), kRecordFixedSize + 9);
  EXPECT_EQ(RawRecord(LatestKey("k1")).size(), kRecordFixedSize + 1);
  EXPECT_FALSE(RawRecordExists(HistoryKey("k1", 1)));
}

TEST_F(IndexInlineTest, ThresholdZeroWritesPlainRecordsAndEitherKindIsRead) {
  uint64_t t = 0;
  {
    auto ix = OpenIndex(0);
    t = Commit({Kv("a", "small"), Kv("b", "tiny")});
    ASSERT_TRUE(ix->WaitFor(t, 5000).ok());
    EXPECT_FALSE(ix->Get("a")->value_inline);
    ASSERT_TRUE(ix->Close().ok());
  }
  // A later open with a threshold reads the plain records as they are and
  // inlines what it indexes from then on.
  auto ix = OpenIndex(8);
  ASSERT_FALSE(ix->rebuilt_on_open());
  EXPECT_FALSE(ix->Get("a")->value_inline);
  t = Commit({Kv("b", "tiny2"), Kv("c", "too long for 8")});
  ASSERT_TRUE(ix->WaitFor(t, 5000).ok());
  EXPECT_EQ(ix->Get("b")->value, "tiny2");
  EXPECT_TRUE(ix->Get("b")->value_inline);
  EXPECT_FALSE(ix->Get("c")->value_inline);
  EXPECT_EQ(*store_->ReadValue(ix->Get("c")->entry), "too long for 8");
}

TEST_F(IndexInlineTest, IndexOfTheOldFormatIsRebuiltWithInlineValues) {
  uint64_t t = 0;
  {
    auto ix = OpenIndex(0);  // Plain records, as format 1 wrote them.
    for (int i = 0; i < 30; i++)
      t = Commit({Kv("k" + std::to_string(i % 6), "v" + std::to_string(i))});
    ASSERT_TRUE(ix->WaitFor(t, 5000).ok());
    ASSERT_TRUE(ix->Close().ok());
  }
  PutRaw(std::string(kFormatKey), "immudb-index 1");
  auto ix = OpenIndex();
  ASSERT_NE(ix, nullptr);
  EXPECT_TRUE(ix->rebuilt_on_open());
  ASSERT_TRUE(ix->WaitFor(t, 5000).ok());
  for (int k = 0; k < 6; k++) {
    auto e = ix->Get("k" + std::to_string(k));
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    EXPECT_EQ(e->revision, 5u);
    EXPECT_TRUE(e->value_inline);
    EXPECT_EQ(e->value, "v" + std::to_string(24 + k));
  }
  ASSERT_TRUE(ix->Close().ok());
  EXPECT_EQ(RawRecord(std::string(kFormatKey)), kFormatValue);
}

TEST_F(IndexInlineTest, ValuesOfTruncatedTxsAreNotInlinedOnRebuild) {
  uint64_t t = 0;
  for (int i = 0; i < 10; i++)
    t = Commit({Kv("k" + std::to_string(i), "value" + std::to_string(i))});
  auto tr = store_->TruncateValues(5);
  ASSERT_TRUE(tr.ok()) << tr.status().ToString();
  auto ix = OpenIndex();  // A new index: everything indexed from the log.
  ASSERT_TRUE(ix->WaitFor(t, 5000).ok());
  for (int i = 0; i < 10; i++) {
    auto e = ix->Get("k" + std::to_string(i));
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->value_inline, e->tx > 5) << i;
    if (e->value_inline) {
      EXPECT_EQ(e->value, "value" + std::to_string(i));
    }
  }
}

}  // namespace
}  // namespace immudb::index
