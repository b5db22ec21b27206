// Helpers shared by the index tests: a store in a temp dir with an index
// opened on it.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "immudb/store.h"
#include "index/index.h"
#include "testutil/test_util.h"

namespace immudb::index::testing_index {

inline EntrySpec Kv(std::string k, std::string v, KVMetadata md = {}) {
  return EntrySpec{std::move(k), std::move(v), md};
}

// A store in a temp dir; its index lives in store/index.
class IndexFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = Store::Open(dir_.Sub("store"), StoreOptions{});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }
  std::unique_ptr<Index> OpenIndex(const IndexOptions& o = IndexOptions{}) {
    auto ix = Index::Open(dir_.Sub("store/index"), store_.get(), o);
    EXPECT_TRUE(ix.ok()) << ix.status().ToString();
    return ix.ok() ? std::move(ix).value() : nullptr;
  }
  uint64_t Commit(std::vector<EntrySpec> es) {
    auto h = store_->Commit(std::move(es));
    EXPECT_TRUE(h.ok()) << h.status().ToString();
    return h.ok() ? h->id : 0;
  }
  std::string ValueOf(const IndexedEntry& e) { return *store_->ReadValue(e.entry); }

  testutil::TempDir dir_;
  std::unique_ptr<Store> store_;
};

}  // namespace immudb::index::testing_index
