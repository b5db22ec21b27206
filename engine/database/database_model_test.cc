// Model test: random writes against the database and a std::map history
// model, with reopens (and index loss) in between; every read at every tx and
// revision must agree with the model.
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
  std::string value;  // Plain value, or the referenced key.
};

class DatabaseModelTest : public testing_db::DbFixture {
 protected:
  std::map<std::string, std::vector<Version>> model_;

  const Version* Latest(const std::string& k) const {
    auto it = model_.find(k);
    return it == model_.end() || it->second.empty() ? nullptr : &it->second.back();
  }
  bool IsLivePlain(const std::string& k) const {
    const Version* v = Latest(k);
    return v && v->kind == Version::kPlain;
  }
  // What Get returns for a version: the value, or nullopt for "not found".
  std::optional<std::string> Expect(const Version& v) const {
    if (v.kind == Version::kDeleted) return std::nullopt;
    if (v.kind == Version::kPlain) return v.value;
    const Version* t = Latest(v.value);
    if (!t || t->kind != Version::kPlain) return std::nullopt;
    return t->value;
  }

  void CheckKey(const std::string& k, uint64_t last_tx) {
    const auto& versions = model_[k];
    KeyRequest latest{k};
    auto got = db_->Get(latest);
    auto want = versions.empty() ? std::nullopt : Expect(versions.back());
    ASSERT_EQ(got.ok(), want.has_value()) << k << " " << got.status().ToString();
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
      const Entry& he = (*h)[i];
      EXPECT_EQ(he.referenced_by ? he.referenced_by->revision : he.revision, i + 1);
      EXPECT_EQ((*h)[i].md.deleted, versions[i].kind == Version::kDeleted);
      const uint64_t tx = (*h)[i].referenced_by ? (*h)[i].referenced_by->tx : (*h)[i].tx;
      if (versions[i].kind != Version::kRef || Expect(versions[i])) {
        EXPECT_EQ(tx, versions[i].tx);
      }
    }
  }

  void CheckAll() {
    const uint64_t last = db_->CurrentState().tx_id;
    for (const auto& [k, v] : model_) {
      CheckKey(k, last);
      if (::testing::Test::HasFatalFailure()) return;
    }
    auto scan = db_->Scan(ScanRequest{});
    ASSERT_TRUE(scan.ok());
    std::vector<std::pair<std::string, std::string>> want, got;
    for (const auto& [k, v] : model_) {
      if (auto e = v.empty() ? std::nullopt : Expect(v.back())) want.emplace_back(k, *e);
    }
    for (const Entry& e : *scan) {
      got.emplace_back(e.referenced_by ? e.referenced_by->key : e.key, e.value);
    }
    EXPECT_EQ(got, want);
    size_t ever = 0;
    for (const auto& [k, v] : model_) ever += v.empty() ? 0 : 1;
    EXPECT_EQ(*db_->CountAll(), ever);
  }
};

TEST_F(DatabaseModelTest, RandomOpsAgreeWithModelAcrossReopens) {
  std::mt19937_64 rng(testutil::TestSeed());
  const int kOps = static_cast<int>(testutil::EnvInt("IMMUDB_MODEL_OPS", 160));
  std::vector<std::string> keys;
  for (int i = 0; i < 8; i++) keys.push_back("key" + std::to_string(i));
  for (const auto& k : keys) model_[k];
  for (int op = 0; op < kOps; op++) {
    const int kind = static_cast<int>(rng() % 10);
    const std::string k = keys[rng() % keys.size()];
    if (kind < 6) {
      // A batch of 1-3 distinct keys, sometimes without waiting for the index.
      std::vector<KeyValue> kvs;
      std::vector<std::string> used;
      const size_t n = 1 + rng() % 3;
      for (size_t i = 0; i < n; i++) {
        std::string key = keys[rng() % keys.size()];
        if (std::find(used.begin(), used.end(), key) != used.end()) continue;
        used.push_back(key);
        kvs.push_back(KeyValue{key, "v" + std::to_string(op) + "_" + std::to_string(i), {}});
      }
      auto h = db_->Set(kvs, rng() % 3 == 0);
      ASSERT_TRUE(h.ok()) << h.status().ToString();
      for (const auto& kv : kvs) model_[kv.key].push_back({h->id, Version::kPlain, kv.value});
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
      const bool ok = target != k && !IsLivePlain(k) && IsLivePlain(target);
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
}

}  // namespace
}  // namespace immudb
