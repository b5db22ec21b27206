#include "testutil/db_model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <set>

#include "database/database_impl.h"
#include "helpers/db_crash_layout.h"
#include "util/coding.h"

namespace immudb::testutil {

using namespace db_crash;  // What the writer writes.

std::vector<Acked> ReadExpected(const std::string& path) {
  std::vector<Acked> out;
  std::ifstream f(path, std::ios::binary);
  uint64_t r[5];
  while (f.read(reinterpret_cast<char*>(r), sizeof(r)))
    out.push_back({r[0], r[1], r[2], r[3], r[4]});
  return out;
}

Result<DbCrashThread> LoadDbCrashThread(Database* db, uint64_t t) {
  DbCrashThread th;
  th.t = t;
  th.live.resize(kSlots);
  for (uint64_t j = 0; j < kSlots; j++) {
    auto e = db->Get(KeyRequest{PlainKey(t, j)});
    if (!e.ok() && !e.status().IsNotFound()) return e.status();
    th.live[j] = e.ok();
  }
  return th;
}

Result<Acked> RunDbCrashOp(Database* d, DbCrashThread* th, uint64_t seq) {
  const uint64_t t = th->t;
  std::vector<bool>& live = th->live;
  const uint64_t j = (seq * 5 + t) % kSlots;
  uint64_t op = seq % 6;
  if ((op == kDelete || op == kReference || op == kZAdd) && !live[j]) op = kSetOne;
  Result<TxHeader> h = Status::Internal("no op");
  switch (op) {
    case kSetOne:
      h = d->Set({{PlainKey(t, j), ValueOf(t, seq, 0), {}}}, false);
      break;
    case kSetTwo:
      h = d->Set({{PlainKey(t, j), ValueOf(t, seq, 0), {}},
                  {PlainKey(t, (j + 1) % kSlots), ValueOf(t, seq, 1), {}}},
                 true);
      break;
    case kDelete:
      h = d->Delete({PlainKey(t, j)}, 0, seq % 4 == 2);
      break;
    case kReference:
      h = d->SetReference(ReferenceRequest{RefKey(t, j), PlainKey(t, j)});
      break;
    case kZAdd:
      h = d->ZAdd(
          ZAddRequest{"z" + std::to_string(t), static_cast<double>(seq % 5), PlainKey(t, j)});
      break;
    case kExecAll:
      h = d->ExecAll({KeyValue{PlainKey(t, j), ValueOf(t, seq, 0), {}},
                      ReferenceRequest{RefKey(t, j), PlainKey(t, j), 0, true}},
                     seq % 2 == 0);
      break;
  }
  if (!h.ok()) return h.status();
  if (op == kDelete) live[j] = false;
  if (op == kSetOne || op == kExecAll) live[j] = true;
  if (op == kSetTwo) live[j] = live[(j + 1) % kSlots] = true;
  return Acked{h->id, t, seq, op, j};
}

// Reads every tx through the database and records what it wrote; each tx
// is described as a sorted list of "<kind> <key> <what>" strings.
void Model::Load(Database* db, uint64_t last) {
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
std::vector<std::string> Model::Describe(const Acked& a) {
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

void Model::CheckReads(Database* db, uint64_t last) {
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
      zgot.push_back(std::to_string(static_cast<int>(z.score)) + " " + z.key + " " + z.entry.value);
    }
    EXPECT_EQ(zgot, zwant) << set;
  }
}

const Version* Model::AtTx(const std::string& k, uint64_t tx) const {
  auto it = keys_.find(k);
  if (it == keys_.end()) return nullptr;
  for (const Version& v : it->second) {
    if (v.tx == tx) return &v;
  }
  return nullptr;
}
// What Get returns for a version: the value, or nullopt for "not found".
std::optional<std::string> Model::Expect(const Version& v) const {
  if (v.kind == Version::kDeleted) return std::nullopt;
  if (v.kind == Version::kPlain) return v.value;
  auto it = keys_.find(v.value);
  const Version* t = v.at_tx > 0                               ? AtTx(v.value, v.at_tx)
                     : it == keys_.end() || it->second.empty() ? nullptr
                                                               : &it->second.back();
  if (!t || t->kind != Version::kPlain) return std::nullopt;
  return t->value;
}

void Model::CheckKey(Database* db, const std::string& k, const std::vector<Version>& versions,
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

}  // namespace immudb::testutil
