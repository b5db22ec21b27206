// immuadmin backup / restore against a real server, and the backup file's
// checks (docs/format/backup.md): a restored database holds every key with
// the same grouping and metadata; a tampered file is refused before anything
// is written.
#include <cstring>
#include <fstream>
#include <sstream>

#include "admin_test_util.h"
#include "client/admin.h"
#include "client/convert.h"
#include "cmd/immuadmin/backup_file.h"
#include "util/coding.h"
#include "util/crc32c.h"

namespace immudb::admin::testing {
namespace {

// Offsets of the records of a backup file (after its header).
struct RecordPos {
  size_t start;  // The kind byte.
  uint32_t len;
};
std::vector<RecordPos> Records(const std::string& data) {
  std::vector<RecordPos> out;
  size_t pos = 8 + 4;
  const uint16_t db_len = GetU16BE(reinterpret_cast<const uint8_t*>(data.data()) + pos);
  pos += 2 + db_len + 4;
  while (pos + 5 <= data.size()) {
    const uint32_t len = GetU32BE(reinterpret_cast<const uint8_t*>(data.data()) + pos + 1);
    out.push_back({pos, len});
    pos += 5 + len + 4;
  }
  return out;
}

// Recomputes a record's checksum after its payload was changed.
void FixCrc(std::string* data, const RecordPos& r) {
  const uint32_t crc = crc32c::Mask(crc32c::Value(data->data() + r.start, 5 + r.len));
  PutU32BE(reinterpret_cast<uint8_t*>(data->data()) + r.start + 5 + r.len, crc);
}

class AdminBackupTest : public AdminTest {
 protected:
  // Writes a mix of transactions into defaultdb: plain sets, one multi-entry
  // tx with KV metadata, a reference, a sorted-set member and a delete.
  void Populate(client::Client& c) {
    ASSERT_TRUE(c.Set("alpha", "1").ok());
    ASSERT_TRUE(c.Set("beta", "2").ok());
    schema::ExecAllRequest req;
    auto* kv1 = req.add_operations()->mutable_kv();
    kv1->set_key("gamma");
    kv1->set_value("3");
    kv1->mutable_metadata()->mutable_expiration()->set_expiresat(4102444800);  // 2100-01-01.
    auto* kv2 = req.add_operations()->mutable_kv();
    kv2->set_key("delta");
    kv2->set_value(std::string("bin\0ary", 7));
    kv2->mutable_metadata()->set_nonindexable(true);
    auto* ref = req.add_operations()->mutable_ref();
    ref->set_key("alpha_ref");
    ref->set_referencedkey("alpha");
    auto* z = req.add_operations()->mutable_zadd();
    z->set_set("scores");
    z->set_score(42.5);
    z->set_key("beta");
    schema::TxHeader resp;
    auto ctx = c.NewContext();
    ASSERT_TRUE(c.Finish(*ctx, c.stub().ExecAll(ctx.get(), req, &resp)).ok());
    schema::DeleteKeysRequest del;
    del.add_keys("beta");
    auto ctx2 = c.NewContext();
    ASSERT_TRUE(c.Finish(*ctx2, c.stub().Delete(ctx2.get(), del, &resp)).ok());
    ASSERT_TRUE(c.Set("epsilon", "5").ok());
  }

  std::string Backup() {
    const std::string file = dir_ + "/defaultdb.bak";
    int code = -1;
    const std::string out = Run("backup --db defaultdb --file " + file, &code);
    EXPECT_EQ(code, 0) << out;
    EXPECT_TRUE(out.starts_with("backup of 'defaultdb': 5 transactions, ")) << out;
    return file;
  }
};

TEST_F(AdminBackupTest, RestoreIntoNewDatabaseReadsBackAndVerifies) {
  Login();
  auto c = Connect();
  ASSERT_NO_FATAL_FAILURE(Populate(*c));
  const std::string file = Backup();
  EXPECT_EQ(Mode(file), 0600);  // It holds every value of the database.

  ASSERT_TRUE(c->UseDatabase("defaultdb").ok());
  auto source = c->CurrentState();
  ASSERT_TRUE(source.ok());
  int code = -1;
  std::string out = Run("restore --file " + file + " --db copy", &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out, "verified 5 transactions of 'defaultdb' in " + file +
                     "\nrestored 5 transactions into 'copy' (last tx 5, alh " +
                     ToHex(source->tx_hash) + ", as in the backup)\n");

  auto r = Connect();
  ASSERT_TRUE(r->UseDatabase("copy").ok());
  // The same Alh chain as the source: the restored database is the source's
  // history, transaction by transaction.
  auto copy = r->CurrentState();
  ASSERT_TRUE(copy.ok());
  EXPECT_EQ(copy->tx_id, 5u);
  EXPECT_EQ(copy->tx_hash, source->tx_hash);
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"alpha", "1"}, {"gamma", "3"}, {"epsilon", "5"}}) {
    auto e = r->VerifiedGet(key);
    ASSERT_TRUE(e.ok()) << key << ": " << e.status().ToString();
    EXPECT_EQ(e->value, value) << key;
  }
  auto ref = r->VerifiedGet("alpha_ref");
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  EXPECT_EQ(ref->key, "alpha");
  EXPECT_EQ(ref->value, "1");
  EXPECT_TRUE(Contains(r->Get("beta").status().message(), "key not found"));
  auto gamma = r->Get("gamma");
  ASSERT_TRUE(gamma.ok());
  ASSERT_TRUE(gamma->md.expires_at.has_value());
  EXPECT_EQ(*gamma->md.expires_at, 4102444800);

  // Same grouping, same entries (key, metadata, value) in every transaction.
  ASSERT_TRUE(c->UseDatabase("defaultdb").ok());
  auto original = client::ScanRawTxs(*c, 1, 10);
  auto restored = client::ScanRawTxs(*r, 1, 10);
  ASSERT_TRUE(original.ok() && restored.ok());
  ASSERT_EQ(original->size(), 5u);
  ASSERT_EQ(restored->size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    const auto& a = (*original)[i];
    const auto& b = (*restored)[i];
    ASSERT_EQ(a.entries.size(), b.entries.size()) << "tx " << i + 1;
    for (size_t j = 0; j < a.entries.size(); ++j) {
      EXPECT_EQ(a.entries[j].entry.key, b.entries[j].entry.key);
      EXPECT_EQ(a.entries[j].entry.md, b.entries[j].entry.md);
      if (!a.entries[j].entry.md.deleted) {
        EXPECT_EQ(a.entries[j].value, b.entries[j].value);
      }
    }
    EXPECT_EQ(a.header, b.header) << "tx " << i + 1;
  }
  // It is an ordinary database again: it takes writes.
  EXPECT_TRUE(r->Set("after-restore", "x").ok());

  // A second restore into the now non-empty database is refused.
  ExpectFailure("restore --file " + file + " --db copy", "'copy' is not empty");
}

TEST_F(AdminBackupTest, FlippedByteIsRefusedAndNothingIsWritten) {
  Login();
  auto c = Connect();
  ASSERT_NO_FATAL_FAILURE(Populate(*c));
  const std::string file = Backup();
  const std::string good = ReadAll(file);
  const auto records = Records(good);
  ASSERT_EQ(records.size(), 6u);  // 5 transactions and the trailer.

  // Every byte of the third transaction's record, flipped alone, is refused.
  int refused = 0;
  const RecordPos& tx3 = records[2];
  for (size_t at = tx3.start; at < tx3.start + 5 + tx3.len + 4; at += 13) {
    std::string bad = good;
    bad[at] ^= 0x20;
    WriteAll(file, bad);
    int code = -1;
    const std::string out = Run("restore --file " + file + " --db copy", &code);
    EXPECT_EQ(code, 1) << "offset " << at << ": " << out;
    refused += code == 1;
  }
  EXPECT_GT(refused, 10);
  EXPECT_FALSE(DatabaseExists(*c, "copy"));

  // A changed value with its checksum recomputed fails the Eh check of tx 3.
  std::string bad = good;
  const size_t gamma_value = bad.find(std::string("\x00"
                                                  "3",
                                                  2),
                                      tx3.start);
  ASSERT_NE(gamma_value, std::string::npos);
  bad[gamma_value + 1] = '9';
  FixCrc(&bad, tx3);
  WriteAll(file, bad);
  ExpectFailure("restore --file " + file + " --db copy",
                "tx 3: entries do not match the header's Eh");
  EXPECT_FALSE(DatabaseExists(*c, "copy"));

  // A truncated file (no trailer) is refused too.
  WriteAll(file, good.substr(0, records.back().start));
  ExpectFailure("restore --file " + file + " --db copy", "truncated");
  EXPECT_FALSE(DatabaseExists(*c, "copy"));
}

TEST_F(AdminBackupTest, BackupRefusesExistingFileAndBadInput) {
  Login();
  auto c = Connect();
  ASSERT_TRUE(c->Set("k", "v").ok());
  const std::string file = dir_ + "/b.bak";
  WriteAll(file, "keep me");
  ExpectFailure("backup --db defaultdb --file " + file, "already exists");
  EXPECT_EQ(ReadAll(file), "keep me");

  ExpectFailure("restore --file " + file + " --db copy", "not an immudb backup file");
  ExpectFailure("backup --db nosuchdb --file " + dir_ + "/c.bak", "'nosuchdb' does not exist");
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/c.bak"));
  EXPECT_FALSE(DatabaseExists(*c, "copy"));
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(AdminBackupFileTest, VerifyRawTxChecksTheChain) {
  client::RawTx tx;
  tx.header.id = 1;
  tx.header.version = 1;
  tx.header.prev_alh = EmptyHash();
  tx.header.bl_root = ZeroHash();
  client::RawEntry e;
  e.entry.key = std::string("\x00k", 2);
  e.value = std::string("\x00v", 2);
  tx.entries.push_back(e);
  tx.header.nentries = 1;
  TxEntry digest = e.entry;
  digest.hval = Sha256Of(e.value);
  auto eh = ComputeEh(1, {digest});
  ASSERT_TRUE(eh.ok());
  tx.header.eh = *eh;

  auto alh = VerifyRawTx(tx, 1, EmptyHash());
  ASSERT_TRUE(alh.ok()) << alh.status().ToString();
  EXPECT_EQ(*alh, *tx.header.Alh());
  EXPECT_TRUE(Contains(VerifyRawTx(tx, 2, EmptyHash()).status().message(), "expected tx 2"));
  EXPECT_TRUE(Contains(VerifyRawTx(tx, 1, ZeroHash()).status().message(), "prevAlh"));
  client::RawTx changed = tx;
  changed.entries[0].value = std::string("\x00w", 2);
  EXPECT_TRUE(Contains(VerifyRawTx(changed, 1, EmptyHash()).status().message(),
                       "tx 1: entries do not match the header's Eh"));
  changed = tx;
  changed.header.nentries = 2;
  EXPECT_TRUE(Contains(VerifyRawTx(changed, 1, EmptyHash()).status().message(), "entries"));
}

}  // namespace
}  // namespace immudb::admin::testing
