// immuadmin hot-backup / hot-restore against a real server, in immudb's hot
// backup format (docs/format/hot-backup.md): full and appended backups, a
// restore that reproduces the source's Alh chain, appending to a restored
// database, and every tampered or out-of-place file refused before anything
// is written.
#include "cmd/immuadmin/hot_backup.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "admin_test_util.h"
#include "client/admin.h"
#include "util/coding.h"

namespace immudb::admin::testing {
namespace {

// Start offsets and sizes of the records of a hot backup file.
std::vector<std::pair<size_t, size_t>> Records(const std::string& data) {
  std::vector<std::pair<size_t, size_t>> out;
  size_t pos = 0;
  while (pos + kHotBackupHeaderSize <= data.size()) {
    const auto* p = reinterpret_cast<const uint8_t*>(data.data()) + pos;
    const size_t len = kHotBackupHeaderSize + GetU32BE(p + 22) + GetU32BE(p + 26);
    out.emplace_back(pos, len);
    pos += len;
  }
  return out;
}

class HotBackupTest : public AdminTest {
 protected:
  void Write(client::Client& c, int from, int to) {
    for (int i = from; i <= to; i++) {
      ASSERT_TRUE(c.Set("key" + std::to_string(i), "value" + std::to_string(i)).ok());
    }
  }
  // Writes txs 1-3 (key1..key3) to defaultdb and hot-backs them up to a new
  // file, whose path is stored in *file.
  void BackUpThreeTxs(client::Client& c, std::string* file) {
    ASSERT_NO_FATAL_FAILURE(Write(c, 1, 3));
    *file = dir_ + "/db.hot";
    int code = -1;
    const std::string out = Run("hot-backup defaultdb -o " + *file, &code);
    ASSERT_EQ(code, 0) << out;
  }
  client::State StateOf(client::Client& c, const std::string& db) {
    EXPECT_TRUE(c.UseDatabase(db).ok());
    auto st = c.CurrentState();
    EXPECT_TRUE(st.ok()) << st.status().ToString();
    return st.ok() ? *st : client::State{};
  }
};

TEST_F(HotBackupTest, BackupAppendAndRestoreKeepTheSourceChain) {
  Login();
  auto c = Connect();
  ASSERT_NO_FATAL_FAILURE(Write(*c, 1, 3));
  const std::string file = dir_ + "/db.hot";
  int code = -1;
  std::string out = Run("hot-backup defaultdb -o " + file, &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_TRUE(Contains(out, "Backing up transactions 1 - 3")) << out;
  EXPECT_EQ(Mode(file), 0600);

  // The layout of the first record, field by field.
  const std::string bytes = ReadAll(file);
  ASSERT_EQ(Records(bytes).size(), 3u);
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  EXPECT_EQ(bytes.substr(0, 10), "IMMUBACKUP");
  EXPECT_EQ(GetU32BE(p + 10), 1u);
  EXPECT_EQ(GetU64BE(p + 14), 1u);
  EXPECT_EQ(GetU32BE(p + 22), 32u);
  const uint32_t payload = GetU32BE(p + 26);
  EXPECT_EQ(GetU64BE(p + kHotBackupHeaderSize + 32), payload - 8u);
  auto exported = client::ExportTx(*c, 1);
  ASSERT_TRUE(exported.ok());
  EXPECT_EQ(bytes.substr(kHotBackupHeaderSize + 32 + 8, payload - 8), *exported);

  // More transactions, appended to the same file.
  ASSERT_NO_FATAL_FAILURE(Write(*c, 4, 5));
  out = Run("hot-backup defaultdb -o " + file + " --append", &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_TRUE(Contains(out, "Backing up transactions 4 - 5")) << out;
  out = Run("hot-backup defaultdb -o " + file + " --append", &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_TRUE(Contains(out, "All backed up, nothing to do")) << out;
  EXPECT_EQ(Run("hot-restore --verify-only -i " + file, &code),
            "Backup file contains transactions 1 - 5\n");
  EXPECT_EQ(code, 0);

  // Restored into a new database: the same transactions, the same Alh.
  out = Run("hot-restore copy -i " + file, &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_EQ(out, "Restored transactions 1 - 5\n");
  const client::State source = StateOf(*c, "defaultdb");
  auto r = Connect();
  const client::State copy = StateOf(*r, "copy");
  EXPECT_EQ(copy.tx_id, 5u);
  EXPECT_EQ(copy.tx_hash, source.tx_hash);
  auto e = r->VerifiedGet("key4");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->value, "value4");

  // Appending the source's newer transactions to the restored copy.
  ASSERT_TRUE(c->UseDatabase("defaultdb").ok());
  ASSERT_NO_FATAL_FAILURE(Write(*c, 6, 6));
  const std::string file2 = dir_ + "/db2.hot";
  out = Run("hot-backup defaultdb -o " + file2, &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_TRUE(Contains(out, "Done")) << out;
  ExpectFailure("hot-restore copy -i " + file2,
                "cannot restore to non-empty database without --append flag");
  // copy is a primary again: it is switched to a replica only when asked.
  out = Run("hot-restore copy -i " + file2 + " --append", &code);
  EXPECT_EQ(code, 1);
  EXPECT_EQ(out,
            "immuadmin: database 'copy' is not a replica: use --force-replica to switch it to "
            "replica mode for the restore\n");
  EXPECT_EQ(StateOf(*r, "copy").tx_id, 5u);
  out = Run("hot-restore copy -i " + file2 + " --append --force-replica", &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_EQ(out, "Restored transactions 6 - 6\n");
  EXPECT_EQ(StateOf(*r, "copy").tx_hash, StateOf(*c, "defaultdb").tx_hash);
  // It is an ordinary database again: it takes writes.
  ASSERT_TRUE(r->UseDatabase("copy").ok());
  EXPECT_TRUE(r->Set("after", "x").ok());
}

// A database that is a replica already takes the restore as it is and stays
// a replica.
TEST_F(HotBackupTest, RestoreIntoAnExistingReplicaKeepsItAReplica) {
  Login();
  auto c = Connect();
  std::string file;
  ASSERT_NO_FATAL_FAILURE(BackUpThreeTxs(*c, &file));
  int code = -1;
  schema::DatabaseNullableSettings replica;
  replica.mutable_replicationsettings()->mutable_replica()->set_value(true);
  ASSERT_TRUE(client::CreateDatabase(*c, "rep", replica).ok());
  std::string out = Run("hot-restore rep -i " + file, &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_EQ(out, "Restored transactions 1 - 3\n");
  EXPECT_EQ(StateOf(*c, "rep").tx_hash, StateOf(*c, "defaultdb").tx_hash);
  auto dbs = client::ListDatabases(*c);
  ASSERT_TRUE(dbs.ok()) << dbs.status().ToString();
  bool still_replica = false;
  for (const auto& d : *dbs)
    still_replica |= d.name == "rep" && d.settings.replicationsettings().replica().value();
  EXPECT_TRUE(still_replica);
  ASSERT_TRUE(c->UseDatabase("rep").ok());
  EXPECT_FALSE(c->Set("k", "v").ok());
}

TEST_F(HotBackupTest, TamperedFileIsRefusedBeforeAnythingIsWritten) {
  Login();
  auto c = Connect();
  std::string file;
  ASSERT_NO_FATAL_FAILURE(BackUpThreeTxs(*c, &file));
  int code = -1;
  const std::string good = ReadAll(file);
  const auto records = Records(good);
  ASSERT_EQ(records.size(), 3u);

  // Every byte of the second record, changed alone, is refused.
  const auto [start, len] = records[1];
  int refused = 0;
  for (size_t at = start; at < start + len; at += 7) {
    std::string bad = good;
    bad[at] ^= 0x01;
    WriteAll(file, bad);
    const std::string out = Run("hot-restore copy -i " + file, &code);
    EXPECT_EQ(code, 1) << "offset " << at << ": " << out;
    refused += code == 1;
    EXPECT_EQ((Run("hot-restore --verify-only -i " + file, &code), code), 1) << "offset " << at;
  }
  EXPECT_GT(refused, 20);
  EXPECT_FALSE(DatabaseExists(*c, "copy"));

  // A record missing from the middle, or a cut one, is refused too.
  WriteAll(file, good.substr(0, records[1].first) + good.substr(records[2].first));
  ExpectFailure("hot-restore copy -i " + file, "incorrect transaction order");
  WriteAll(file, good.substr(0, good.size() - 5));
  ExpectFailure("hot-restore copy -i " + file, "short record");
  EXPECT_FALSE(DatabaseExists(*c, "copy"));
}

TEST_F(HotBackupTest, RefusesWhatWouldNotChain) {
  Login();
  auto c = Connect();
  ASSERT_NO_FATAL_FAILURE(Write(*c, 1, 4));
  int code = -1;
  ExpectFailure("hot-backup defaultdb -o " + dir_ + "/x.hot --append --start-tx 2",
                "don't use --append and --start-tx options together");
  ExpectFailure("hot-backup defaultdb --append", "can be used only when outputting to the file");

  // A backup from tx 3 on cannot start a new database (txs 1-2 missing).
  const std::string tail = dir_ + "/tail.hot";
  ASSERT_EQ((Run("hot-backup defaultdb -o " + tail + " --start-tx 3", &code), code), 0);
  EXPECT_EQ(Run("hot-restore --verify-only -i " + tail, &code),
            "Backup file contains transactions 3 - 4\n");
  ExpectFailure("hot-backup defaultdb -o " + tail, "file already exists");
  ExpectFailure("hot-restore copy -i " + tail, "there is a gap of 2 transaction(s)");

  // Another database's history does not append onto this one.
  ASSERT_TRUE(client::CreateDatabase(*c, "other", {}).ok());
  ASSERT_TRUE(c->UseDatabase("other").ok());
  ASSERT_NO_FATAL_FAILURE(Write(*c, 100, 105));
  const std::string other = dir_ + "/other.hot";
  ASSERT_EQ((Run("hot-backup other -o " + other, &code), code), 0);
  ExpectFailure("hot-backup defaultdb -o " + other + " --append",
                "cannot find file's last transaction 6");
  const std::string mine = dir_ + "/mine.hot";
  ASSERT_EQ((Run("hot-backup defaultdb -o " + mine + " --start-tx 2", &code), code), 0);
  ExpectFailure("hot-backup other -o " + mine + " --append", "in backup file and database differ");
  ExpectFailure("hot-restore defaultdb -i " + other + " --append",
                "in backup file and database differ");
  ASSERT_TRUE(client::CreateDatabase(*c, "longer", {}).ok());
  ASSERT_TRUE(c->UseDatabase("longer").ok());
  ASSERT_NO_FATAL_FAILURE(Write(*c, 1, 8));
  ExpectFailure("hot-restore longer -i " + other + " --append",
                "last transaction 8 is not in the file");
  // defaultdb is unchanged and still takes writes (no longer a replica).
  EXPECT_EQ(StateOf(*c, "defaultdb").tx_id, 4u);
  EXPECT_TRUE(c->Set("still", "writable").ok());
}

}  // namespace
}  // namespace immudb::admin::testing
