// Model test: random writes (sets with preconditions, deletes, references,
// sorted-set members, ExecAll batches with bound references) against the
// database and a std::map history model, with reopens (and index loss) in
// between; every read at every tx and revision, History, Scan, ZScan and
// Count must agree with the model, and a write the model rejects must fail
// and write nothing.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <random>

#include "database/database_test_util.h"

namespace immudb {
namespace {

struct Version {
  uint64_t tx = 0;
  enum Kind { kPlain, kDeleted, kRef } kind = kPlain;
  std::string value;   // Plain value, or the referenced key.
  uint64_t at_tx = 0;  // Of a bound reference.
};

class DatabaseModelTest : public testing_db::DbFixture {
 protected:
  std::map<std::string, std::vector<Version>> model_;
  // Sorted set "z": (score, member key) -> tx of its latest ZAdd. Scores are
  // small non-negative integers, so numeric order is the stored order.
  std::map<std::pair<int, std::string>, uint64_t> zset_;

  bool IsLive(const std::string& k) const {
    const Version* v = Latest(k);
    return v && v->kind != Version::kDeleted;
  }
  bool NotModifiedAfter(const std::string& k, uint64_t tx) const {
    const Version* v = Latest(k);
    return !v || v->tx <= tx;
  }
  const Version* AtTx(const std::string& k, uint64_t tx) const {
    auto it = model_.find(k);
    if (it == model_.end()) return nullptr;
    for (const Version& v : it->second) {
      if (v.tx == tx) return &v;
    }
    return nullptr;
  }

  const Version* Latest(const std::string& k) const {
    auto it = model_.find(k);
    return it == model_.end() || it->second.empty() ? nullptr : &it->second.back();
  }
  bool IsLivePlain(const std::string& k) const {
    const Version* v = Latest(k);
    return v && v->kind == Version::kPlain;
  }
  // A reference whose target (at its tx, or latest) is itself a reference:
  // resolving it fails with kResolutionLimit (references resolve one level
  // deep). An ExecAll that does not wait for the index can turn a referenced
  // key into a reference.
  bool PastResolutionLimit(const Version& v) const {
    if (v.kind != Version::kRef) return false;
    const Version* t = v.at_tx > 0 ? AtTx(v.value, v.at_tx) : Latest(v.value);
    return t && t->kind == Version::kRef;
  }
  bool KeyPastResolutionLimit(const std::string& k) const {
    const Version* v = Latest(k);
    return v && PastResolutionLimit(*v);
  }
  static constexpr char kResolutionLimit[] =
      "key resolution limit reached. It may be due to cyclic references";

  // What Get returns for a version: the value, or nullopt for "not found".
  std::optional<std::string> Expect(const Version& v) const {
    if (v.kind == Version::kDeleted) return std::nullopt;
    if (v.kind == Version::kPlain) return v.value;
    const Version* t = v.at_tx > 0 ? AtTx(v.value, v.at_tx) : Latest(v.value);
    if (!t || t->kind != Version::kPlain) return std::nullopt;
    return t->value;
  }

  void CheckKey(const std::string& k, uint64_t last_tx) {
    const auto& versions = model_[k];
    KeyRequest latest{k};
    auto got = db_->Get(latest);
    auto want = versions.empty() ? std::nullopt : Expect(versions.back());
    ASSERT_EQ(got.ok(), want.has_value()) << k << " " << got.status().ToString();
    if (!versions.empty() && PastResolutionLimit(versions.back())) {
      EXPECT_EQ(got.status().message(), kResolutionLimit) << k;
    }
    if (want) {
      EXPECT_EQ(got->value, *want) << k;
      if (versions.back().kind == Version::kPlain) {
        EXPECT_EQ(got->revision, versions.size());
      }
    }
    for (size_t i = 0; i < versions.size(); i++) {
      KeyRequest r{k};
      r.at_revision = static_cast<int64_t>(i + 1);
      auto e = db_->Get(r);
      auto w = Expect(versions[i]);
      ASSERT_EQ(e.ok(), w.has_value()) << k << " rev " << i + 1;
      if (w) {
        EXPECT_EQ(e->value, *w) << k << " rev " << i + 1;
      }
    }
    size_t vi = 0;
    for (uint64_t tx = 1; tx <= last_tx; tx++) {
      KeyRequest r{k};
      r.at_tx = tx;
      auto e = db_->Get(r);
      const bool written = vi < versions.size() && versions[vi].tx == tx;
      if (!written) {
        ASSERT_TRUE(e.status().IsNotFound()) << k << " tx " << tx;
        continue;
      }
      auto w = Expect(versions[vi++]);
      ASSERT_EQ(e.ok(), w.has_value()) << k << " tx " << tx << " " << e.status().ToString();
      if (w) {
        EXPECT_EQ(e->value, *w);
      }
    }
    if (versions.empty()) return;
    auto h = db_->History(HistoryRequest{k});
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    ASSERT_EQ(h->size(), versions.size());
    for (size_t i = 0; i < versions.size(); i++) {
      // History shows each version as stored: references are not followed.
      const Entry& he = (*h)[i];
      const Version& v = versions[i];
      EXPECT_EQ(he.revision, i + 1);
      EXPECT_EQ(he.tx, v.tx);
      EXPECT_FALSE(he.referenced_by);
      EXPECT_EQ(he.md.deleted, v.kind == Version::kDeleted);
      const std::string want = v.kind == Version::kPlain ? v.value
                               : v.kind == Version::kRef
                                   ? EncodeReferenceValue(v.value, v.at_tx).substr(1)
                                   : "";
      EXPECT_EQ(he.value, want) << k << " rev " << i + 1;
    }
  }

  void CheckZSet() {
    auto zs = db_->ZScan(ZScanRequest{.set = "z"});
    std::vector<std::pair<std::string, std::string>> want, got;
    for (const auto& [sk, tx] : zset_) {
      const Version* v = Latest(sk.second);
      // A member whose key is now a reference is an error; members of
      // deleted keys are left out.
      if (v && v->kind == Version::kRef) {
        ASSERT_EQ(zs.status().message(), kResolutionLimit);
        return;
      }
      if (v && v->kind == Version::kPlain) {
        want.emplace_back(std::to_string(sk.first) + sk.second, v->value);
      }
    }
    ASSERT_TRUE(zs.ok()) << zs.status().ToString();
    for (const ZEntry& z : *zs) {
      got.emplace_back(std::to_string(static_cast<int>(z.score)) + z.key, z.entry.value);
    }
    EXPECT_EQ(got, want);
  }

  void CheckAll() {
    const uint64_t last = db_->CurrentState().tx_id;
    for (const auto& [k, v] : model_) {
      CheckKey(k, last);
      if (::testing::Test::HasFatalFailure()) return;
    }
    auto scan = db_->Scan(ScanRequest{});
    std::vector<std::pair<std::string, std::string>> want, got;
    bool past_limit = false;
    for (const auto& [k, v] : model_) {
      past_limit |= !v.empty() && PastResolutionLimit(v.back());
      if (auto e = v.empty() ? std::nullopt : Expect(v.back())) want.emplace_back(k, *e);
    }
    // A live reference to a reference fails the whole scan, as in immudb.
    if (past_limit) {
      ASSERT_EQ(scan.status().message(), kResolutionLimit);
    } else {
      ASSERT_TRUE(scan.ok()) << scan.status().ToString();
    }
    for (const Entry& e : scan.ok() ? *scan : std::vector<Entry>{}) {
      got.emplace_back(e.referenced_by ? e.referenced_by->key : e.key, e.value);
    }
    if (!past_limit) {
      EXPECT_EQ(got, want);
    }
    size_t ever = 0;
    for (const auto& [k, v] : model_) ever += v.empty() ? 0 : 1;
    EXPECT_EQ(*db_->CountAll(), ever);
    CheckZSet();
  }

  // A random precondition on a random key, and whether the model says it holds.
  std::pair<Precondition, bool> RandomPrecondition(std::mt19937_64& rng,
                                                   const std::vector<std::string>& keys) {
    Precondition p;
    p.key = keys[rng() % keys.size()];
    switch (rng() % 3) {
      case 0:
        p.kind = Precondition::Kind::kKeyMustExist;
        return {p, IsLive(p.key)};
      case 1:
        p.kind = Precondition::Kind::kKeyMustNotExist;
        return {p, !IsLive(p.key)};
      default:
        p.kind = Precondition::Kind::kKeyNotModifiedAfterTx;
        p.tx_id = 1 + rng() % (db_->CurrentState().tx_id + 1);
        return {p, NotModifiedAfter(p.key, p.tx_id)};
    }
  }
};

TEST_F(DatabaseModelTest, RandomOpsAgreeWithModelAcrossReopens) {
  std::mt19937_64 rng(testutil::TestSeed());
  const int kOps = static_cast<int>(testutil::EnvInt("IMMUDB_MODEL_OPS", 160));
  std::vector<std::string> keys;
  for (int i = 0; i < 8; i++) keys.push_back("key" + std::to_string(i));
  for (const auto& k : keys) model_[k];
  int rejected = 0, accepted_with_preconditions = 0;
  for (int op = 0; op < kOps; op++) {
    const int kind = static_cast<int>(rng() % 10);
    const std::string k = keys[rng() % keys.size()];
    if (kind < 6) {
      // A batch of 1-3 distinct keys, sometimes without waiting for the
      // index, sometimes with preconditions.
      std::vector<KeyValue> kvs;
      std::vector<std::string> used;
      const size_t n = 1 + rng() % 3;
      for (size_t i = 0; i < n; i++) {
        std::string key = keys[rng() % keys.size()];
        if (std::find(used.begin(), used.end(), key) != used.end()) continue;
        used.push_back(key);
        kvs.push_back(KeyValue{key, "v" + std::to_string(op) + "_" + std::to_string(i), {}});
      }
      std::vector<Precondition> pre;
      bool holds = true;
      for (size_t i = 0, np = rng() % 3; i < np; i++) {
        auto [p, ok] = RandomPrecondition(rng, keys);
        pre.push_back(p);
        holds = holds && ok;
      }
      const uint64_t before = db_->CurrentState().tx_id;
      auto h = db_->Set(kvs, rng() % 3 == 0, pre);
      if (!holds) {
        ASSERT_EQ(h.status().code(), StatusCode::kFailedPrecondition) << h.status().ToString();
        ASSERT_EQ(db_->CurrentState().tx_id, before);
        rejected++;
        continue;
      }
      if (!pre.empty()) accepted_with_preconditions++;
      ASSERT_TRUE(h.ok()) << h.status().ToString();
      for (const auto& kv : kvs) model_[kv.key].push_back({h->id, Version::kPlain, kv.value});
    } else if (kind == 6 && rng() % 2 == 0) {
      // A sorted-set member: its key must be a live plain key.
      const int score = static_cast<int>(rng() % 5);
      auto h = db_->ZAdd(ZAddRequest{"z", static_cast<double>(score), k});
      ASSERT_EQ(h.ok(), IsLivePlain(k)) << k << " " << h.status().ToString();
      if (h.ok()) zset_[{score, k}] = h->id;
    } else if (kind == 6) {
      // ExecAll: a key and a reference bound to the same tx.
      const std::string target = keys[rng() % keys.size()];
      const bool no_wait = rng() % 2 == 0;
      auto h = db_->ExecAll(
          {KeyValue{target, "x" + std::to_string(op), {}}, ReferenceRequest{k, target, 0, true}},
          no_wait);
      // With the index, a live plain key cannot become a reference, and a
      // key that is a reference must resolve (KeyPastResolutionLimit).
      const bool ok = target != k && (no_wait || (!IsLivePlain(k) && !KeyPastResolutionLimit(k)));
      ASSERT_EQ(h.ok(), ok) << k << "->" << target << " " << h.status().ToString();
      if (!ok) continue;
      model_[target].push_back({h->id, Version::kPlain, "x" + std::to_string(op)});
      model_[k].push_back({h->id, Version::kRef, target, h->id});
    } else if (kind < 8) {
      const Version* v = Latest(k);
      auto h = db_->Delete({k}, 0, false);
      if (!v || v->kind == Version::kDeleted) {
        ASSERT_TRUE(h.status().IsNotFound()) << h.status().ToString();
        continue;
      }
      ASSERT_TRUE(h.ok()) << h.status().ToString();
      model_[k].push_back({h->id, Version::kDeleted, ""});
    } else if (kind < 9) {
      const std::string target = keys[rng() % keys.size()];
      auto h = db_->SetReference(ReferenceRequest{k, target});
      const bool ok =
          target != k && !IsLivePlain(k) && !KeyPastResolutionLimit(k) && IsLivePlain(target);
      // A reference to a key that is itself a live reference is refused too.
      ASSERT_EQ(h.ok(), ok) << k << "->" << target << " " << h.status().ToString();
      if (ok) model_[k].push_back({h->id, Version::kRef, target});
    } else {
      if (rng() % 4 == 0) {
        // Lose the index as well: it must be rebuilt from the log.
        ASSERT_TRUE(db_->Close().ok());
        db_.reset();
        std::filesystem::remove_all(dir_.Sub("db/index"));
      }
      Reopen();
      CheckAll();
      if (HasFatalFailure()) return;
    }
  }
  CheckAll();
  if (kOps >= 160) {
    // The run exercised both outcomes of preconditions.
    EXPECT_GT(rejected, 0);
    EXPECT_GT(accepted_with_preconditions, 0);
  }
}

}  // namespace
}  // namespace immudb
