#include "store/value_map.h"

#include <gtest/gtest.h>

#include <string>

#include "immudb/store.h"
#include "store/store_impl.h"
#include "testutil/test_util.h"

namespace immudb {
namespace {

using testutil::TempDir;

constexpr uint64_t kSeg = 64 << 10;

// kSeg bytes whose value depends on segment and position.
std::string SegmentBytes(int segment, uint64_t n = kSeg) {
  std::string s(n, '\0');
  for (uint64_t i = 0; i < n; i++)
    s[i] = static_cast<char>((i * 7 + segment * 13 + i / 251) & 0xff);
  return s;
}

TEST(ValueMapTest, ReadsMappedBytesWithinTheBudgetOnly) {
  TempDir d;
  testutil::WriteAll(d.Sub("00000000.tx"), SegmentBytes(0));
  testutil::WriteAll(d.Sub("00000001.tx"), SegmentBytes(1));
  ASSERT_EQ(store::ValueMap::ChunkSize(kSeg), kSeg);
  store::ValueMap m(FileSystem::Default(), d.path(), "tx", kSeg, kSeg);  // One chunk.
  char buf[200];
  ASSERT_TRUE(m.Read(1000, 200, buf));
  EXPECT_EQ(std::string(buf, 200), SegmentBytes(0).substr(1000, 200));
  ASSERT_TRUE(m.Read(kSeg - 200, 200, buf));  // The chunk's last bytes.
  EXPECT_EQ(std::string(buf, 200), SegmentBytes(0).substr(kSeg - 200, 200));
  EXPECT_EQ(m.mapped_bytes(), kSeg);
  // Across two chunks, and in a second chunk past the budget: the caller reads.
  EXPECT_FALSE(m.Read(kSeg - 100, 200, buf));
  EXPECT_FALSE(m.Read(kSeg + 10, 100, buf));
  EXPECT_EQ(m.mapped_bytes(), kSeg);

  store::ValueMap two(FileSystem::Default(), d.path(), "tx", kSeg, 2 * kSeg);
  ASSERT_TRUE(two.Read(kSeg + 10, 100, buf));
  EXPECT_EQ(std::string(buf, 100), SegmentBytes(1).substr(10, 100));
  // Later writes to the file show through the mapping.
  testutil::FlipByte(d.Sub("00000001.tx"), 10);
  ASSERT_TRUE(two.Read(kSeg + 10, 1, buf));
  EXPECT_EQ(buf[0], static_cast<char>(SegmentBytes(1)[10] ^ 0x40));
}

TEST(ValueMapTest, LoweredBudgetKeepsMappedChunksAndMapsNoMore) {
  TempDir d;
  for (int s = 0; s < 3; s++) {
    testutil::WriteAll(d.Sub("0000000" + std::to_string(s) + ".tx"), SegmentBytes(s));
  }
  store::ValueMap m(FileSystem::Default(), d.path(), "tx", kSeg, 3 * kSeg);
  char buf[100];
  ASSERT_TRUE(m.Read(10, 100, buf));
  m.LowerBudget(4 * kSeg);  // Never raised.
  m.LowerBudget(kSeg + kSeg / 2);
  EXPECT_FALSE(m.Read(kSeg + 10, 100, buf));  // Past the lowered budget.
  ASSERT_TRUE(m.Read(20, 100, buf));          // Still mapped.
  EXPECT_EQ(std::string(buf, 100), SegmentBytes(0).substr(20, 100));
  EXPECT_EQ(m.mapped_bytes(), kSeg);

  store::ValueMap none(FileSystem::Default(), d.path(), "tx", kSeg, 3 * kSeg);
  none.LowerBudget(0);
  EXPECT_FALSE(none.Read(10, 100, buf));
  EXPECT_EQ(none.mapped_bytes(), 0u);
}

TEST(ValueMapTest, ChunkIsMappedOnlyOnceTheFileHoldsIt) {
  TempDir d;
  testutil::WriteAll(d.Sub("00000000.val"), SegmentBytes(0, kSeg / 2));
  store::ValueMap m(FileSystem::Default(), d.path(), "val", kSeg, 4 * kSeg);
  char buf[64];
  // Half a chunk: mapping it would expose pages past the end of the file.
  EXPECT_FALSE(m.Read(0, 64, buf));
  EXPECT_EQ(m.mapped_bytes(), 0u);
  testutil::WriteAll(d.Sub("00000000.val"), SegmentBytes(0));
  // Retried now and then, not on every read.
  bool mapped = false;
  for (int i = 0; i < 1000 && !mapped; i++) mapped = m.Read(100, 64, buf);
  ASSERT_TRUE(mapped);
  EXPECT_EQ(std::string(buf, 64), SegmentBytes(0).substr(100, 64));
  // A missing segment is not mapped either.
  for (int i = 0; i < 1000; i++) ASSERT_FALSE(m.Read(3 * kSeg + 5, 10, buf));
}

TEST(ValueMapTest, NothingIsMappedWithoutFileMappingsOrBudget) {
  TempDir d;
  testutil::WriteAll(d.Sub("00000000.tx"), SegmentBytes(0));
  char buf[16];
  store::ValueMap small(FileSystem::Default(), d.path(), "tx", kSeg, kSeg - 1);
  EXPECT_FALSE(small.Read(0, 16, buf));
  // 100,000-byte segments cannot be cut into page-aligned chunks.
  EXPECT_EQ(store::ValueMap::ChunkSize(100000), 0u);
  store::ValueMap odd(FileSystem::Default(), d.path(), "tx", 100000, 1 << 20);
  EXPECT_FALSE(odd.Read(0, 16, buf));
  // A wrapper (as fault-injecting tests use) keeps reads on File::ReadAt.
  FileSystemWrapper w(FileSystem::Default());
  store::ValueMap wrapped(&w, d.path(), "tx", kSeg, 1 << 20);
  EXPECT_FALSE(wrapped.Read(0, 16, buf));
  EXPECT_EQ(wrapped.mapped_bytes(), 0u);
}

// Values read through the mappings, before and after a reopen, in every
// segment of a store with small segments: each must equal what was written.
TEST(ValueMapTest, StoreReadsEveryValueRightThroughTheMappings) {
  TempDir d;
  StoreOptions o;
  o.tx_log_segment_size = kSeg;
  o.value_map_bytes = 64 * kSeg;
  o.synced = false;
  std::vector<std::pair<TxEntry, std::string>> written;
  auto value_of = [](int i) { return "value " + std::to_string(i) + std::string(i % 300, 'v'); };
  auto read_all = [&](Store* s) {
    for (const auto& [e, v] : written) {
      auto got = s->ReadValue(e);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      ASSERT_EQ(*got, v);
    }
  };
  {
    auto s = Store::Open(d.path(), o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    for (int i = 0; i < 3000; i++) {
      ASSERT_TRUE((*s)->Commit({EntrySpec{"k" + std::to_string(i), value_of(i), {}}}).ok());
      // The newest values, partly still in the write buffer, read right too.
      auto tx = (*s)->ReadTx(i + 1);
      ASSERT_TRUE(tx.ok());
      written.emplace_back(tx->entries[0], value_of(i));
      auto v = (*s)->ReadValue(tx->entries[0]);
      ASSERT_TRUE(v.ok()) << v.status().ToString();
      ASSERT_EQ(*v, value_of(i));
    }
    read_all(s->get());
    ASSERT_TRUE((*s)->Close().ok());
  }
  ASSERT_GT(written.back().first.voff, 4 * kSeg);  // Several segments.
  auto s = Store::Open(d.path(), o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  read_all(s->get());
  auto* impl = dynamic_cast<store::StoreImpl*>(s->get());
  ASSERT_NE(impl, nullptr);
  EXPECT_GE(impl->value_map_mapped_bytes(), 4 * kSeg);
  // A changed byte in a mapped value is still caught by its hash.
  const TxEntry& e = written[1234].first;
  const uint64_t seg = e.voff / kSeg;
  char name[32];
  std::snprintf(name, sizeof(name), "/tx/%08llu.tx", static_cast<unsigned long long>(seg));
  ASSERT_TRUE(testutil::FlipByte(d.path() + name, e.voff % kSeg + 2));
  EXPECT_TRUE((*s)->ReadValue(e).status().IsCorruption());
}

}  // namespace
}  // namespace immudb
