// Helpers shared by the database tests.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>

#include "immudb/database.h"
#include "testutil/test_util.h"

namespace immudb::testing_db {

// A database in a temp dir with a settable clock (for expiry).
class DbFixture : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    if (db_) {
      ASSERT_TRUE(db_->Close().ok());
    }
    db_.reset();
    auto now = now_;
    opts_.now_unix_seconds = [now] { return now->load(); };
    auto db = Database::Open(dir_.Sub("db"), opts_);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
  }
  TxHeader MustSet(const std::string& k, const std::string& v, KVMetadata md = {}) {
    auto h = db_->Set({KeyValue{k, v, md}}, false);
    EXPECT_TRUE(h.ok()) << h.status().ToString();
    return h.ok() ? *h : TxHeader{};
  }
  Entry MustGet(const std::string& k) {
    KeyRequest r;
    r.key = k;
    auto e = db_->Get(r);
    EXPECT_TRUE(e.ok()) << k << ": " << e.status().ToString();
    return e.ok() ? *e : Entry{};
  }

  testutil::TempDir dir_;
  DatabaseOptions opts_;
  std::shared_ptr<std::atomic<int64_t>> now_ = std::make_shared<std::atomic<int64_t>>(1000);
  std::unique_ptr<Database> db_;
};

}  // namespace immudb::testing_db
