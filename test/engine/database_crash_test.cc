// Database crash loop: a child process writes through the Database layer
// (sets with and without waiting for the index, deletes, references, sorted-set
// members, ExecAll with bound references; immudb-db-crash-writer) and records
// every acknowledged write; the parent kills it with SIGKILL at a random
// moment, often while the indexer is writing, reopens the database and checks
//  * every acknowledged write is in its tx, exactly as written;
//  * the key index agrees with the log: for every key, Get (latest, at every
//    revision, at the tx of every version and at a tx that did not write it),
//    History, Scan, ZScan and CountAll give what a model rebuilt from the
//    reopened log says;
//  * the history before the crash is a prefix of the history after it (dual
//    proof through VerifiableTxById), and every tx acknowledged since the
//    last cycle proves into the current state.
// The child alternates synced and unsynced stores and inline index values on
// and off; the parent reopens with either inline setting.
//
// IMMUDB_DB_CRASH_CYCLES sets the number of cycles (default 8).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "database/database_impl.h"
#include "helpers/db_crash_layout.h"
#include "immudb/database.h"
#include "immudb/verify.h"
#include "testutil/child_process.h"
#include "testutil/test_util.h"
#include "util/coding.h"

namespace immudb {
namespace {

using testutil::TempDir;

using namespace db_crash;  // What the writer records and writes.

struct Acked {
  uint64_t id, thread, seq, op, slot;
};

std::vector<Acked> ReadExpected(const std::string& path) {
  std::vector<Acked> out;
  std::ifstream f(path, std::ios::binary);
  uint64_t r[5];
  while (f.read(reinterpret_cast<char*>(r), sizeof(r)))
    out.push_back({r[0], r[1], r[2], r[3], r[4]});
  return out;
}

std::string BinDir() {
  const char* d = std::getenv("IMMUDB_BIN_DIR");
  return d ? d : IMMUDB_BIN_DIR;
}

// One written version of a user key, as the log holds it.
struct Version {
  uint64_t tx = 0;
  enum Kind { kPlain, kDeleted, kRef } kind = kPlain;
  std::string value;   // Plain value, or the referenced key.
  uint64_t at_tx = 0;  // Of a reference.
};

// What the reopened log says, and the database's reads checked against it.
class Model {
 public:
  // Reads every tx through the database and records what it wrote; each tx
  // is described as a sorted list of "<kind> <key> <what>" strings.
  void Load(Database* db, uint64_t last) {
    descs_.assign(last + 1, {});
    for (uint64_t id = 1; id <= last; id++) {
      auto tx = db->TxById(id);
      ASSERT_TRUE(tx.ok()) << "tx " << id << ": " << tx.status().ToString();
      alh_[id] = *tx->header.Alh();
      for (const TxEntry& e : tx->entries) {
        ASSERT_FALSE(e.key.empty());
        if (e.key[0] == 0x01) {
          auto z = database::DecodeZAddKey(e.key);
          ASSERT_TRUE(z.ok()) << "tx " << id;
          zsets_[z->set][{static_cast<int>(z->score), z->key}] = id;
          descs_[id].push_back("Z " + z->set + " " + std::to_string(static_cast<int>(z->score)) +
                               " " + z->key);
          continue;
        }
        ASSERT_EQ(e.key[0], 0x00) << "tx " << id;
        const std::string key = e.key.substr(1);
        if (e.md.deleted) {
          keys_[key].push_back({id, Version::kDeleted, "", 0});
          descs_[id].push_back("D " + key);
          continue;
        }
        auto v = db->ReadValue(e);
        ASSERT_TRUE(v.ok()) << "tx " << id << ": " << v.status().ToString();
        ASSERT_FALSE(v->empty());
        if ((*v)[0] == 0x00) {
          keys_[key].push_back({id, Version::kPlain, v->substr(1), 0});
          descs_[id].push_back("P " + key + " " + v->substr(1));
        } else {
          ASSERT_EQ((*v)[0], 0x01);
          ASSERT_GE(v->size(), 10u);
          const uint64_t at = GetU64BE(reinterpret_cast<const uint8_t*>(v->data() + 1));
          const std::string target = v->substr(10);
          keys_[key].push_back({id, Version::kRef, target, at});
          descs_[id].push_back("R " + key + " " + target + " " + std::to_string(at));
        }
      }
      std::sort(descs_[id].begin(), descs_[id].end());
    }
  }

  // What the writer did in an acknowledged write, described as Load does.
  static std::vector<std::string> Describe(const Acked& a) {
    const uint64_t t = a.thread, j = a.slot;
    std::vector<std::string> d;
    switch (a.op) {
      case kSetOne:
        d = {"P " + PlainKey(t, j) + " " + ValueOf(t, a.seq, 0)};
        break;
      case kSetTwo:
        d = {"P " + PlainKey(t, j) + " " + ValueOf(t, a.seq, 0),
             "P " + PlainKey(t, (j + 1) % kSlots) + " " + ValueOf(t, a.seq, 1)};
        break;
      case kDelete:
        d = {"D " + PlainKey(t, j)};
        break;
      case kReference:
        d = {"R " + RefKey(t, j) + " " + PlainKey(t, j) + " 0"};
        break;
      case kZAdd:
        d = {"Z z" + std::to_string(t) + " " + std::to_string(a.seq % 5) + " " + PlainKey(t, j)};
        break;
      case kExecAll:
        d = {"P " + PlainKey(t, j) + " " + ValueOf(t, a.seq, 0),
             "R " + RefKey(t, j) + " " + PlainKey(t, j) + " " + std::to_string(a.id)};
        break;
      default:
        d = {"unknown op " + std::to_string(a.op)};
    }
    std::sort(d.begin(), d.end());
    return d;
  }

  const std::vector<std::string>& Desc(uint64_t id) const { return descs_.at(id); }
  const Hash& Alh(uint64_t id) const { return alh_.at(id); }

  void CheckReads(Database* db, uint64_t last) {
    for (const auto& [k, versions] : keys_) {
      CheckKey(db, k, versions, last);
      if (::testing::Test::HasFatalFailure()) return;
    }
    auto scan = db->Scan(ScanRequest{});
    ASSERT_TRUE(scan.ok()) << scan.status().ToString();
    std::vector<std::pair<std::string, std::string>> want, got;
    for (const auto& [k, v] : keys_) {
      if (auto e = Expect(v.back())) want.emplace_back(k, *e);
    }
    for (const Entry& e : *scan) {
      got.emplace_back(e.referenced_by ? e.referenced_by->key : e.key, e.value);
    }
    EXPECT_EQ(got, want);
    auto count = db->CountAll();
    ASSERT_TRUE(count.ok());
    EXPECT_EQ(*count, keys_.size());
    for (const auto& [set, members] : zsets_) {
      auto zs = db->ZScan(ZScanRequest{.set = set});
      ASSERT_TRUE(zs.ok()) << zs.status().ToString();
      std::vector<std::string> zwant, zgot;
      for (const auto& [m, tx] : members) {
        const Version& v = keys_.at(m.second).back();
        if (v.kind == Version::kPlain) {
          zwant.push_back(std::to_string(m.first) + " " + m.second + " " + v.value);
        }
      }
      for (const ZEntry& z : *zs) {
        zgot.push_back(std::to_string(static_cast<int>(z.score)) + " " + z.key + " " +
                       z.entry.value);
      }
      EXPECT_EQ(zgot, zwant) << set;
    }
  }

 private:
  const Version* AtTx(const std::string& k, uint64_t tx) const {
    auto it = keys_.find(k);
    if (it == keys_.end()) return nullptr;
    for (const Version& v : it->second) {
      if (v.tx == tx) return &v;
    }
    return nullptr;
  }
  // What Get returns for a version: the value, or nullopt for "not found".
  std::optional<std::string> Expect(const Version& v) const {
    if (v.kind == Version::kDeleted) return std::nullopt;
    if (v.kind == Version::kPlain) return v.value;
    auto it = keys_.find(v.value);
    const Version* t = v.at_tx > 0                               ? AtTx(v.value, v.at_tx)
                       : it == keys_.end() || it->second.empty() ? nullptr
                                                                 : &it->second.back();
    if (!t || t->kind != Version::kPlain) return std::nullopt;
    return t->value;
  }

  void CheckKey(Database* db, const std::string& k, const std::vector<Version>& versions,
                uint64_t last) {
    auto got = db->Get(KeyRequest{k});
    auto want = Expect(versions.back());
    ASSERT_EQ(got.ok(), want.has_value()) << k << " " << got.status().ToString();
    if (want) {
      EXPECT_EQ(got->value, *want) << k;
      if (versions.back().kind == Version::kPlain) {
        EXPECT_EQ(got->revision, versions.size()) << k;
        EXPECT_EQ(got->tx, versions.back().tx) << k;
      }
    }
    std::set<uint64_t> written;
    for (size_t i = 0; i < versions.size(); i++) {
      const Version& v = versions[i];
      written.insert(v.tx);
      auto w = Expect(v);
      KeyRequest by_rev{k};
      by_rev.at_revision = static_cast<int64_t>(i + 1);
      auto e = db->Get(by_rev);
      ASSERT_EQ(e.ok(), w.has_value()) << k << " rev " << i + 1 << " " << e.status().ToString();
      if (w) {
        EXPECT_EQ(e->value, *w) << k << " rev " << i + 1;
      }
      KeyRequest by_tx{k};
      by_tx.at_tx = v.tx;
      e = db->Get(by_tx);
      ASSERT_EQ(e.ok(), w.has_value()) << k << " tx " << v.tx << " " << e.status().ToString();
      if (w) {
        EXPECT_EQ(e->value, *w) << k << " tx " << v.tx;
      }
    }
    // A tx that did not write the key has no version of it.
    for (uint64_t tx : {versions.front().tx + 1, versions.back().tx + 1}) {
      if (tx > last || written.count(tx)) continue;
      KeyRequest r{k};
      r.at_tx = tx;
      auto e = db->Get(r);
      ASSERT_TRUE(e.status().IsNotFound()) << k << " tx " << tx << " " << e.status().ToString();
    }
    // History, a page at a time.
    std::vector<Entry> history;
    while (history.size() < versions.size()) {
      HistoryRequest hr{k};
      hr.offset = history.size();
      hr.limit = 1000;
      auto h = db->History(hr);
      ASSERT_TRUE(h.ok()) << k << " " << h.status().ToString();
      ASSERT_FALSE(h->empty()) << k << " history ends at " << history.size();
      history.insert(history.end(), h->begin(), h->end());
    }
    ASSERT_EQ(history.size(), versions.size()) << k;
    for (size_t i = 0; i < versions.size(); i++) {
      const Entry& he = history[i];
      const Version& v = versions[i];
      EXPECT_EQ(he.revision, i + 1) << k;
      EXPECT_EQ(he.tx, v.tx) << k;
      EXPECT_EQ(he.md.deleted, v.kind == Version::kDeleted) << k;
      const std::string want_value = v.kind == Version::kPlain ? v.value
                                     : v.kind == Version::kRef
                                         ? EncodeReferenceValue(v.value, v.at_tx).substr(1)
                                         : "";
      EXPECT_EQ(he.value, want_value) << k << " rev " << i + 1;
    }
  }

  std::vector<std::vector<std::string>> descs_;
  std::map<uint64_t, Hash> alh_;
  std::map<std::string, std::vector<Version>> keys_;
  std::map<std::string, std::map<std::pair<int, std::string>, uint64_t>> zsets_;
};

TEST(DatabaseCrashTest, AcknowledgedWritesAndTheIndexSurviveSigkill) {
  const int cycles = static_cast<int>(testutil::EnvInt("IMMUDB_DB_CRASH_CYCLES", 8));
  std::mt19937_64 rng(testutil::TestSeed());
  TempDir d;
  const std::string dir = d.Sub("db"), expected = d.Sub("expected");
  StoreState before;        // Trusted state from the previous cycle.
  size_t proved_up_to = 0;  // Acknowledged writes already proved into a state.
  uint64_t indexed_at_open_sum = 0, last_sum = 0;
  for (int c = 0; c < cycles; c++) {
    const bool synced = (c % 4) != 3;
    const std::string inline_bytes = (c % 3) == 1 ? "128" : "0";
    pid_t pid = testutil::SpawnChild({BinDir() + "/immudb-db-crash-writer", dir, expected, "4",
                                      synced ? "1" : "0", inline_bytes});
    ASSERT_GT(pid, 0) << "cannot start " << BinDir() << "/immudb-db-crash-writer";
    // Kill it at a random moment once it writes (a slow start, as under
    // sanitizers, must not make every kill land before the first write).
    const int wstatus =
        testutil::KillAfterProgress(pid, expected, std::chrono::seconds(20), 150, rng);
    ASSERT_NE(wstatus, -1) << "cannot kill or reap the writer";
    ASSERT_TRUE(WIFSIGNALED(wstatus)) << "writer exited early with status " << wstatus;

    DatabaseOptions o;
    o.index_inline_value_bytes = rng() % 2 == 0 ? 0 : 128;
    auto db = Database::Open(dir, o);
    ASSERT_TRUE(db.ok()) << "cycle " << c << ": " << db.status().ToString();
    indexed_at_open_sum += (*db)->IndexedUpTo();
    const StoreState now = (*db)->CurrentState();
    last_sum += now.tx_id;
    Model model;
    ASSERT_NO_FATAL_FAILURE(model.Load(db->get(), now.tx_id)) << "cycle " << c;

    // Every acknowledged write is there as written.
    const std::vector<Acked> acked = ReadExpected(expected);
    for (const Acked& a : acked) {
      ASSERT_LE(a.id, now.tx_id) << "cycle " << c << ": acknowledged tx " << a.id << " lost";
      ASSERT_EQ(model.Desc(a.id), Model::Describe(a)) << "cycle " << c << " tx " << a.id;
    }
    ASSERT_NO_FATAL_FAILURE(model.CheckReads(db->get(), now.tx_id)) << "cycle " << c;

    // The history before this crash is a prefix of the history now, and the
    // writes acknowledged since then prove into the current state.
    ASSERT_GE(now.tx_id, before.tx_id);
    if (before.tx_id > 0) {
      auto vt = (*db)->VerifiableTxById(now.tx_id, before.tx_id);
      ASSERT_TRUE(vt.ok()) << vt.status().ToString();
      ASSERT_TRUE(
          verify::VerifyDualProof(vt->dual_proof, before.tx_id, now.tx_id, before.alh, now.alh))
          << "cycle " << c;
    }
    for (; proved_up_to < acked.size(); proved_up_to++) {
      const uint64_t id = acked[proved_up_to].id;
      auto vt = (*db)->VerifiableTxById(id, now.tx_id);
      ASSERT_TRUE(vt.ok()) << vt.status().ToString();
      ASSERT_TRUE(verify::VerifyDualProof(vt->dual_proof, id, now.tx_id, model.Alh(id), now.alh))
          << "cycle " << c << " tx " << id;
    }
    before = now;
    ASSERT_TRUE((*db)->Close().ok());
  }
  std::fprintf(
      stderr,
      "database crash loop: %d cycles, %zu acknowledged writes, %llu txs; index "
      "covered %.0f%% of the txs on reopen\n",
      cycles, proved_up_to, static_cast<unsigned long long>(before.tx_id),
      last_sum ? 100.0 * static_cast<double>(indexed_at_open_sum) / static_cast<double>(last_sum)
               : 0.0);
  EXPECT_GT(proved_up_to, 0u);
}

}  // namespace
}  // namespace immudb
