#include "store/export.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "testutil/test_util.h"

namespace immudb::store {
namespace {

using testutil::TempDir;

std::unique_ptr<Store> MustOpen(const std::string& dir) {
  auto s = Store::Open(dir, {});
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

// Txs of every shape: version 0 and 1, several entries, deleted, expiring
// and non-indexable entries, an empty value, a large value.
void WriteMixed(Store* s) {
  for (int i = 1; i <= 20; i++) {
    std::vector<EntrySpec> es;
    for (int e = 0; e < 1 + i % 4; e++) {
      EntrySpec x{"k" + std::to_string(i) + "_" + std::to_string(e),
                  std::string(1, '\0') + "v" + std::to_string(i * 7 + e),
                  {}};
      if (i % 5 == 0) x.md.deleted = true;
      if (i % 6 == 0) x.md.expires_at = 1900000000 + i;
      if (i % 7 == 0) x.md.non_indexable = true;
      if (i == 11) x.value.clear();
      if (i == 12) x.value = std::string(70000, 'x');
      es.push_back(std::move(x));
    }
    ASSERT_TRUE(s->Commit(std::move(es)).ok());
  }
}

TEST(ExportTxTest, ExportedTxsReproduceTheChainInAnotherStore) {
  TempDir d;
  auto src = MustOpen(d.Sub("src"));
  auto dst = MustOpen(d.Sub("dst"));
  ASSERT_NO_FATAL_FAILURE(WriteMixed(src.get()));
  const uint64_t n = src->CurrentState().tx_id;
  for (uint64_t id = 1; id <= n; id++) {
    auto bytes = ExportTx(*src, id);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    auto x = DecodeExportedTx(*bytes);
    ASSERT_TRUE(x.ok()) << x.status().ToString();
    // Encoding the decoded form gives the same bytes.
    auto again = EncodeExportedTx(x->header, x->entries);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *bytes);
    auto h = dst->CommitExported(x->header, std::move(x->entries));
    ASSERT_TRUE(h.ok()) << "tx " << id << ": " << h.status().ToString();
    EXPECT_EQ(*h->Alh(), *src->TxAlh(id));
  }
  EXPECT_EQ(dst->CurrentState().alh, src->CurrentState().alh);
  auto tx12 = dst->ReadTx(12);
  ASSERT_TRUE(tx12.ok());
  EXPECT_EQ(dst->ReadValue(tx12->entries[0])->size(), 70000u);
}

TEST(ExportTxTest, VersionZeroHeaderLayoutIsImmudbs) {
  TempDir d;
  auto s = MustOpen(d.Sub("s"));
  ASSERT_TRUE(s->Commit({EntrySpec{"k", "v", {}}}).ok());
  auto bytes = ExportTx(*s, 1);
  ASSERT_TRUE(bytes.ok());
  // u32 header length 124 = id 8 + prevAlh 32 + ts 8 + version 2 + nentries 2 +
  // eh 32 + blTxID 8 + blRoot 32; then klen 1, "k", mdlen 0, vlen 1, "v";
  // then the trailer: length 1, flag 0.
  ASSERT_EQ(bytes->size(), 4 + 124 + 2 + 1 + 2 + 4 + 1 + 2 + 1);
  EXPECT_EQ(bytes->substr(0, 4), std::string("\0\0\0\x7c", 4));
  EXPECT_EQ(bytes->substr(4, 8), std::string("\0\0\0\0\0\0\0\x01", 8));
  EXPECT_EQ(bytes->substr(4 + 48, 2), std::string("\0\0", 2));    // version 0
  EXPECT_EQ(bytes->substr(4 + 50, 2), std::string("\0\x01", 2));  // nentries
  EXPECT_EQ(bytes->substr(128), std::string("\0\x01k\0\0\0\0\0\x01v\0\x01\0", 13));
}

TEST(ExportTxTest, EveryTruncationAndTrailingByteIsAnError) {
  TempDir d;
  auto s = MustOpen(d.Sub("s"));
  ASSERT_NO_FATAL_FAILURE(WriteMixed(s.get()));
  auto bytes = ExportTx(*s, 9);
  ASSERT_TRUE(bytes.ok());
  // Cutting the trailer off leaves a valid older form (no trailer); any
  // other cut is malformed.
  const size_t without_trailer = bytes->size() - 3;
  for (size_t len = 0; len < bytes->size(); len++) {
    auto x = DecodeExportedTx(std::string_view(*bytes).substr(0, len));
    if (len == without_trailer) {
      EXPECT_TRUE(x.ok()) << x.status().ToString();
      continue;
    }
    ASSERT_FALSE(x.ok()) << "length " << len;
    EXPECT_EQ(x.status().code(), StatusCode::kInvalidArgument) << x.status().ToString();
  }
  EXPECT_FALSE(DecodeExportedTx(*bytes + "x").ok());
  // A truncated-values flag is refused by name.
  std::string truncated = *bytes;
  truncated.back() = '\x01';
  EXPECT_EQ(DecodeExportedTx(truncated).status().code(), StatusCode::kUnimplemented);
  truncated.back() = '\x02';
  EXPECT_EQ(DecodeExportedTx(truncated).status().code(), StatusCode::kInvalidArgument);
}

TEST(ExportTxTest, AChangedByteIsRefusedOrBreaksTheChain) {
  TempDir d;
  auto src = MustOpen(d.Sub("src"));
  ASSERT_NO_FATAL_FAILURE(WriteMixed(src.get()));
  auto one = ExportTx(*src, 1);
  ASSERT_TRUE(one.ok());
  auto bytes = ExportTx(*src, 2);
  ASSERT_TRUE(bytes.ok());
  for (size_t off = 0; off < bytes->size(); off++) {
    std::string b = *bytes;
    b[off] = static_cast<char>(b[off] ^ 0x20);
    auto x = DecodeExportedTx(b);
    if (!x.ok()) continue;
    TempDir t;
    auto dst = MustOpen(t.Sub("dst"));
    auto first = DecodeExportedTx(*one);
    ASSERT_TRUE(dst->CommitExported(first->header, std::move(first->entries)).ok());
    auto h = dst->CommitExported(x->header, std::move(x->entries));
    if (!h.ok()) {
      EXPECT_EQ(dst->CurrentState().tx_id, 1u);
      continue;
    }
    // Some fields (the timestamp) are not bound by anything inside one
    // exported tx: the change then makes another Alh, so the source's next
    // tx no longer chains onto it.
    EXPECT_NE(*h->Alh(), *src->TxAlh(2)) << "byte " << off << " changed, same Alh";
    auto next = DecodeExportedTx(*ExportTx(*src, 3));
    ASSERT_TRUE(next.ok());
    EXPECT_FALSE(dst->CommitExported(next->header, std::move(next->entries)).ok())
        << "byte " << off;
  }
}

}  // namespace
}  // namespace immudb::store
