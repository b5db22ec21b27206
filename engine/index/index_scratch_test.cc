// What IndexBatchScratch::Trim keeps between batches.
#include <gtest/gtest.h>

#include <string>

#include "index/index_impl.h"

namespace immudb::index {
namespace {

// Puts records of 18-byte keys and 65-byte values (the sizes of a new
// 16-byte key's 'L' record) until the batch holds `bytes`.
void FillBatch(rocksdb::WriteBatch* batch, size_t bytes) {
  const std::string key(18, 'k');
  const std::string value(65, 'v');
  while (batch->GetDataSize() < bytes) ASSERT_TRUE(batch->Put(key, value).ok());
}

TEST(IndexBatchScratchTest, TrimKeepsTheWriteBatchOfABatchOfLargeTxs) {
  IndexBatchScratch s;
  // 64 txs of 1000 new keys each: about 5.6 MB of records.
  FillBatch(&s.batch, 64 * 1000 * 87);
  const size_t capacity = s.batch.Data().capacity();
  ASSERT_GT(capacity, size_t{4} << 20);
  s.Trim();
  // Emptied, with its buffer: the next batch of that size does not regrow it.
  EXPECT_EQ(s.batch.Count(), 0u);
  EXPECT_EQ(s.batch.Data().capacity(), capacity);
  FillBatch(&s.batch, 64 * 1000 * 87);
  EXPECT_EQ(s.batch.Data().capacity(), capacity);
  s.Trim();
  EXPECT_EQ(s.batch.Count(), 0u);
}

TEST(IndexBatchScratchTest, TrimDropsTheWriteBatchOfAnUnusuallyLargeBatch) {
  IndexBatchScratch s;
  FillBatch(&s.batch, size_t{12} << 20);
  s.Trim();
  EXPECT_EQ(s.batch.Count(), 0u);
  EXPECT_LT(s.batch.Data().capacity(), size_t{1} << 20);
}

}  // namespace
}  // namespace immudb::index
