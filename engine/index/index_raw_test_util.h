// Tests: the index's RocksDB database opened directly (the index closed),
// to read or change a record as stored. Keys are full RocksDB keys; each
// goes to the column family of its kind (docs/format/index.md).
#pragma once

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <memory>
#include <string>
#include <vector>

#include "index/index_format.h"

namespace immudb::index::testing_index {

class RawIndexDb {
 public:
  explicit RawIndexDb(const std::string& dir) {
    std::vector<rocksdb::ColumnFamilyDescriptor> families = {
        {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
        {std::string(kHistoryFamily), rocksdb::ColumnFamilyOptions()},
        {std::string(kLatestFamily), rocksdb::ColumnFamilyOptions()}};
    rocksdb::DBOptions o;
    o.atomic_flush = true;
    rocksdb::DB* raw = nullptr;
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    status_ = rocksdb::DB::Open(o, dir, families, &handles, &raw);
    db_.reset(raw);
    for (auto* h : handles) handles_.emplace_back(h);
  }
  ~RawIndexDb() { Close(); }

  bool ok() const { return status_.ok(); }
  // The stored value of `db_key`; false when absent.
  bool Get(const std::string& db_key, std::string* value) {
    return db_->Get(rocksdb::ReadOptions(), Family(db_key), db_key, value).ok();
  }
  // The value of `db_key` in column family `family` (0 default, 1 'H', 2
  // 'L'), whatever the key's kind; false when absent.
  bool GetIn(int family, const std::string& db_key, std::string* value) {
    return db_->Get(rocksdb::ReadOptions(), handles_[family].get(), db_key, value).ok();
  }
  // Writes `value` under `db_key` and flushes every family.
  bool Put(const std::string& db_key, const std::string& value) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    if (!db_->Put(wo, Family(db_key), db_key, value).ok()) return false;
    std::vector<rocksdb::ColumnFamilyHandle*> all;
    for (auto& h : handles_) all.push_back(h.get());
    return db_->Flush(rocksdb::FlushOptions(), all).ok();
  }
  void Close() {
    if (db_ == nullptr) return;
    handles_.clear();
    EXPECT_TRUE(db_->Close().ok());
    db_.reset();
  }

 private:
  rocksdb::ColumnFamilyHandle* Family(const std::string& db_key) const {
    if (!db_key.empty() && db_key[0] == kHistoryTag) return handles_[1].get();
    if (!db_key.empty() && db_key[0] == kLatestTag) return handles_[2].get();
    return handles_[0].get();
  }

  rocksdb::Status status_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<std::unique_ptr<rocksdb::ColumnFamilyHandle>> handles_;
};

}  // namespace immudb::index::testing_index
