// Store::ReadTxAndValue: the tx and one entry's value, read together when the
// value lies just before the tx record.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "immudb/store.h"
#include "testutil/test_util.h"
#include "util/op_phases.h"

namespace immudb {
namespace {

using testutil::TempDir;

EntrySpec Kv(std::string k, std::string v) { return EntrySpec{std::move(k), std::move(v), {}}; }

// No mapped value reads, so that every value read is a read of the log.
std::unique_ptr<Store> OpenUnmapped(const std::string& dir) {
  StoreOptions o;
  o.value_map_bytes = 0;
  auto s = Store::Open(dir, o);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

void ExpectSameTx(const Tx& a, const Tx& b) {
  EXPECT_EQ(a.header, b.header);
  ASSERT_EQ(a.entries.size(), b.entries.size());
  for (size_t i = 0; i < a.entries.size(); i++) {
    EXPECT_EQ(a.entries[i].key, b.entries[i].key);
    EXPECT_EQ(a.entries[i].hval, b.entries[i].hval);
    EXPECT_EQ(a.entries[i].voff, b.entries[i].voff);
    EXPECT_EQ(a.entries[i].vlen, b.entries[i].vlen);
  }
}

// Log reads (system calls) the calls in fn make on this thread.
template <class Fn>
uint32_t LogReads(Fn fn) {
  OpPhaseTimes times;
  OpPhaseTimes* old = SetOpPhaseSink(&times);
  fn();
  SetOpPhaseSink(old);
  return times.log_reads;
}

TEST(StoreReadTest, TxAndValueMatchReadTxAndReadValue) {
  TempDir d;
  auto s = OpenUnmapped(d.path());
  ASSERT_NE(s, nullptr);
  std::vector<std::vector<EntrySpec>> txs;
  txs.push_back({Kv("one", std::string(100, 'a'))});
  txs.push_back({Kv("x", "1"), Kv("y", std::string(300, 'b')), Kv("z", "")});
  std::vector<EntrySpec> big;  // Its first values lie far before its record.
  for (int i = 0; i < 100; i++) big.push_back(Kv("k" + std::to_string(i), std::string(100, 'c')));
  txs.push_back(big);
  for (auto& es : txs) ASSERT_TRUE(s->Commit(es).ok());

  for (uint64_t id = 1; id <= txs.size(); id++) {
    auto want = s->ReadTx(id);
    ASSERT_TRUE(want.ok()) << want.status().ToString();
    for (const TxEntry& e : want->entries) {
      SCOPED_TRACE(e.key);
      std::string value;
      auto tx = s->ReadTxAndValue(id, e, &value);
      ASSERT_TRUE(tx.ok()) << tx.status().ToString();
      ExpectSameTx(*tx, *want);
      EXPECT_EQ(value, *s->ReadValue(e));
    }
  }
  std::string value;
  TxEntry any = s->ReadTx(1)->entries[0];
  EXPECT_TRUE(s->ReadTxAndValue(0, any, &value).status().IsNotFound());
  EXPECT_TRUE(s->ReadTxAndValue(txs.size() + 1, any, &value).status().IsNotFound());
}

TEST(StoreReadTest, ValueBesideItsRecordIsReadWithIt) {
  TempDir d;
  {
    auto s = OpenUnmapped(d.path());
    ASSERT_NE(s, nullptr);
    ASSERT_TRUE(s->Commit({Kv("a", std::string(100, 'a'))}).ok());
    ASSERT_TRUE(s->Commit({Kv("b", std::string(100, 'b'))}).ok());
    std::vector<EntrySpec> big;
    for (int i = 0; i < 100; i++) big.push_back(Kv("k" + std::to_string(i), std::string(100, 'c')));
    ASSERT_TRUE(s->Commit(big).ok());
    ASSERT_TRUE(s->Close().ok());
  }
  // Reopened: every read goes to the files, none to a write buffer.
  auto s = OpenUnmapped(d.path());
  ASSERT_NE(s, nullptr);
  const TxEntry b = s->ReadTx(2)->entries[0];
  std::string value;
  // The commit records, then the tx record and the value: 2 reads, not 3.
  EXPECT_EQ(LogReads([&] {
              ASSERT_TRUE(s->ReadTx(2).ok());
              ASSERT_TRUE(s->ReadValue(b).ok());
            }),
            3u);
  EXPECT_EQ(LogReads([&] { ASSERT_TRUE(s->ReadTxAndValue(2, b, &value).ok()); }), 2u);
  EXPECT_EQ(value, std::string(100, 'b'));
  // A value 99 values before its record is read on its own.
  const TxEntry first = s->ReadTx(3)->entries[0];
  EXPECT_EQ(LogReads([&] { ASSERT_TRUE(s->ReadTxAndValue(3, first, &value).ok()); }), 3u);
  EXPECT_EQ(value, std::string(100, 'c'));
}

TEST(StoreReadTest, DamagedValueOrRecordIsCorruption) {
  TempDir d;
  TxEntry e;
  {
    auto s = OpenUnmapped(d.path());
    ASSERT_NE(s, nullptr);
    ASSERT_TRUE(s->Commit({Kv("a", std::string(100, 'a'))}).ok());
    ASSERT_TRUE(s->Commit({Kv("b", std::string(100, 'b'))}).ok());
    ASSERT_TRUE(s->Commit({Kv("c", std::string(100, 'c'))}).ok());
    e = s->ReadTx(2)->entries[0];
    ASSERT_TRUE(s->Close().ok());
  }
  const std::string log = d.path() + "/tx/00000000.tx";
  ASSERT_TRUE(testutil::FlipByte(log, e.voff + 50));
  {
    auto s = OpenUnmapped(d.path());
    ASSERT_NE(s, nullptr);
    std::string value = "untouched";
    auto tx = s->ReadTxAndValue(2, e, &value);
    EXPECT_TRUE(tx.status().IsCorruption()) << tx.status().ToString();
    EXPECT_TRUE(s->ReadValue(e).status().IsCorruption());
    ASSERT_TRUE(s->Close().ok());
  }
  // Value restored, the tx record (after the value) damaged instead.
  ASSERT_TRUE(testutil::FlipByte(log, e.voff + 50));
  ASSERT_TRUE(testutil::FlipByte(log, e.voff + e.vlen + 40));
  auto s = OpenUnmapped(d.path());
  ASSERT_NE(s, nullptr);
  std::string value;
  EXPECT_TRUE(s->ReadTxAndValue(2, e, &value).status().IsCorruption());
  EXPECT_TRUE(s->ReadTx(2).status().IsCorruption());
}

}  // namespace
}  // namespace immudb
