// Store::ReadTxAndValue: the tx and one entry's value, read together when the
// value lies just before the tx record; Store::ReadTxAndValueWithProof: the
// same with the dual proof, the record found from a tx's first value.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "immudb/store.h"
#include "store/log_format.h"
#include "testutil/test_util.h"
#include "util/coding.h"
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

void ExpectSameProof(const DualProof& a, const DualProof& b) {
  EXPECT_EQ(a.source_tx_header, b.source_tx_header);
  EXPECT_EQ(a.target_tx_header, b.target_tx_header);
  EXPECT_EQ(a.inclusion_proof, b.inclusion_proof);
  EXPECT_EQ(a.consistency_proof, b.consistency_proof);
  EXPECT_EQ(a.target_bl_tx_alh, b.target_bl_tx_alh);
  EXPECT_EQ(a.last_inclusion_proof, b.last_inclusion_proof);
  EXPECT_EQ(a.linear_proof.source_tx_id, b.linear_proof.source_tx_id);
  EXPECT_EQ(a.linear_proof.target_tx_id, b.linear_proof.target_tx_id);
  EXPECT_EQ(a.linear_proof.terms, b.linear_proof.terms);
  EXPECT_EQ(a.linear_advance_proof.has_value(), b.linear_advance_proof.has_value());
}

// ReadTxAndValueWithProof(id, index, entry, target) against ReadTx,
// ReadValue and BuildDualProof, for every entry of every tx and a target at
// and after it.
void ExpectWithProofMatches(const Store& s, uint64_t last) {
  auto head = s.ReadTxHeader(last);
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  for (uint64_t id = 1; id <= last; id++) {
    auto want = s.ReadTx(id);
    ASSERT_TRUE(want.ok()) << want.status().ToString();
    for (const TxHeader& target : {want->header, *head}) {
      for (uint32_t i = 0; i < want->entries.size(); i++) {
        SCOPED_TRACE("tx " + std::to_string(id) + " entry " + std::to_string(i) + " target " +
                     std::to_string(target.id));
        const TxEntry& e = want->entries[i];
        std::string value;
        DualProof proof;
        auto tx = s.ReadTxAndValueWithProof(id, i, e, target, &value, &proof);
        ASSERT_TRUE(tx.ok()) << tx.status().ToString();
        ExpectSameTx(*tx, *want);
        EXPECT_EQ(value, *s.ReadValue(e));
        auto p = s.BuildDualProof(want->header, target);
        ASSERT_TRUE(p.ok()) << p.status().ToString();
        ExpectSameProof(proof, *p);
      }
    }
  }
}

TEST(StoreReadTest, TxValueAndProofMatchTheSeparateCalls) {
  TempDir d;
  {
    auto s = OpenUnmapped(d.path());
    ASSERT_NE(s, nullptr);
    ASSERT_TRUE(s->Commit({Kv("one", std::string(100, 'a'))}).ok());
    ASSERT_TRUE(s->Commit({Kv("x", "1"), Kv("y", std::string(300, 'b')), Kv("z", "")}).ok());
    ASSERT_TRUE(s->Commit({Kv("empty", "")}).ok());
    std::vector<EntrySpec> big;  // A record larger than the first read.
    for (int i = 0; i < 40; i++) big.push_back(Kv("k" + std::to_string(i), "v"));
    ASSERT_TRUE(s->Commit(big).ok());
    EntrySpec md = Kv("deleted", "gone");
    md.md.deleted = true;
    ASSERT_TRUE(s->Commit({md}).ok());
    for (int i = 0; i < 20; i++) {
      ASSERT_TRUE(s->Commit({Kv("n" + std::to_string(i), std::string(i * 7, 'n'))}).ok());
    }
    ExpectWithProofMatches(*s, 25);  // Some of it still in the write buffers.
    ASSERT_TRUE(s->Close().ok());
  }
  auto s = OpenUnmapped(d.path());
  ASSERT_NE(s, nullptr);
  ExpectWithProofMatches(*s, 25);
  std::string value;
  DualProof proof;
  const TxEntry any = s->ReadTx(1)->entries[0];
  const TxHeader head = *s->ReadTxHeader(25);
  EXPECT_TRUE(s->ReadTxAndValueWithProof(0, 0, any, head, &value, &proof).status().IsNotFound());
  EXPECT_TRUE(s->ReadTxAndValueWithProof(26, 0, any, head, &value, &proof).status().IsNotFound());
}

TEST(StoreReadTest, FirstValueBringsItsRecordWithoutTheCommitLog) {
  TempDir d;
  {
    auto s = OpenUnmapped(d.path());
    ASSERT_NE(s, nullptr);
    for (int i = 0; i < 50; i++) {
      ASSERT_TRUE(s->Commit({Kv("k" + std::to_string(i), std::string(100, 'v'))}).ok());
    }
    ASSERT_TRUE(s->Close().ok());
  }
  // Each count on a fresh open, so that no cache holds what the other read.
  auto count = [&](bool together) {
    auto s = OpenUnmapped(d.path());
    EXPECT_NE(s, nullptr);
    const TxEntry e = s->ReadTx(20)->entries[0];
    const TxHeader head = *s->ReadTxHeader(50);
    std::string value;
    DualProof proof;
    return LogReads([&] {
      if (together) {
        ASSERT_TRUE(s->ReadTxAndValueWithProof(20, 0, e, head, &value, &proof).ok());
      } else {
        auto tx = s->ReadTxAndValue(20, e, &value);
        ASSERT_TRUE(tx.ok());
        ASSERT_TRUE(s->BuildDualProof(tx->header, head).ok());
      }
    });
  };
  const uint32_t apart = count(false);
  EXPECT_EQ(count(true), apart - 1);
}

// A record that checks out on its own bytes but is not the committed one (here
// made inside another value, with the values' length frame pointed at it) is
// not taken: its Alh is not the tx's AHT leaf.
TEST(StoreReadTest, ARecordMadeInsideAValueIsNotTaken) {
  TempDir d;
  TxEntry e0, e1;
  TxHeader real;
  {
    auto s = OpenUnmapped(d.path());
    ASSERT_NE(s, nullptr);
    for (int i = 0; i < 5; i++) ASSERT_TRUE(s->Commit({Kv("a" + std::to_string(i), "x")}).ok());
    ASSERT_TRUE(
        s->Commit({Kv("first", std::string(100, 'f')), Kv("room", std::string(600, 'r'))}).ok());
    for (int i = 0; i < 5; i++) ASSERT_TRUE(s->Commit({Kv("b" + std::to_string(i), "y")}).ok());
    auto tx = s->ReadTx(6);
    ASSERT_TRUE(tx.ok());
    real = tx->header;
    e0 = tx->entries[0];
    e1 = tx->entries[1];
    ASSERT_TRUE(s->Close().ok());
  }
  // A tx 6 of `entries` with another timestamp, its own bytes checking out,
  // written over the second value, and the frame pointed at it.
  auto plant = [&](const std::vector<TxEntry>& entries) {
    Tx fake;
    fake.header = real;
    fake.header.ts = real.ts + 1;
    fake.header.nentries = static_cast<uint32_t>(entries.size());
    fake.entries = entries;
    fake.header.eh = *ComputeEh(fake.header.version, fake.entries);
    std::string payload;
    store::EncodeTxHeader(fake.header, &payload);
    for (const TxEntry& e : entries) store::EncodeTxEntry(e, &payload);
    const std::string record = store::FrameTxRecord(payload);
    ASSERT_LE(record.size(), e1.vlen);
    std::fstream f(d.path() + "/tx/00000000.tx", std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(f.is_open());
    f.seekp(static_cast<std::streamoff>(e1.voff));
    f.write(record.data(), static_cast<std::streamsize>(record.size()));
    std::string frame;
    AppendU64BE(&frame, e0.vlen);  // The values' length: the record after e0.
    f.seekp(static_cast<std::streamoff>(e0.voff - frame.size()));
    f.write(frame.data(), static_cast<std::streamsize>(frame.size()));
    ASSERT_TRUE(f.good());
  };
  // e0 alone, and no entry at all.
  for (const std::vector<TxEntry>& entries : {std::vector<TxEntry>{e0}, std::vector<TxEntry>{}}) {
    SCOPED_TRACE(entries.size());
    plant(entries);
    auto s = OpenUnmapped(d.path());
    ASSERT_NE(s, nullptr);
    const TxHeader head = *s->ReadTxHeader(11);
    std::string value;
    DualProof proof;
    auto tx = s->ReadTxAndValueWithProof(6, 0, e0, head, &value, &proof);
    ASSERT_TRUE(tx.ok()) << tx.status().ToString();
    EXPECT_EQ(tx->header, real);
    EXPECT_EQ(tx->entries.size(), 2u);
    EXPECT_EQ(value, std::string(100, 'f'));
    ExpectSameProof(proof, *s->BuildDualProof(real, head));
    ASSERT_TRUE(s->Close().ok());
  }
}

}  // namespace
}  // namespace immudb
