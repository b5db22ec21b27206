// The database crash tests' model: what a workload of db_crash ops
// (helpers/db_crash_layout.h) wrote, rebuilt from a reopened database's tx
// log, and the checks that every read of the database (Get latest, at a
// revision and at a tx, History, Scan, ZScan, CountAll) agrees with it.
// Shared by the SIGKILL loop (test/engine/database_crash_test.cc, with its
// writer test/helpers/db_crash_writer.cc) and the power-loss test
// (test/engine/database_power_loss_test.cc).
//
// Not thread-safe; the checks report through gtest assertions (callers wrap
// them in ASSERT_NO_FATAL_FAILURE).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "immudb/database.h"

namespace immudb::testutil {

// One acknowledged write: its tx and the (thread, seq, op, slot) that made it.
struct Acked {
  uint64_t id, thread, seq, op, slot;
};

// The acknowledged writes a writer recorded in `path` (40-byte records).
std::vector<Acked> ReadExpected(const std::string& path);

// Per-thread state of a db_crash writer: which of its plain keys are live.
struct DbCrashThread {
  uint64_t t = 0;
  std::vector<bool> live;
};

// Reads which of thread `t`'s plain keys the database holds, as a writer
// does after each (re)open.
Result<DbCrashThread> LoadDbCrashThread(Database* db, uint64_t t);

// Runs op number `seq` of a writer thread (db_crash_layout.h: the slot and
// the op follow from seq; an op that needs a live key falls back to a plain
// set) and, when acknowledged, returns what it did.
Result<Acked> RunDbCrashOp(Database* db, DbCrashThread* th, uint64_t seq);

// One written version of a user key, as the log holds it.
struct Version {
  uint64_t tx = 0;
  enum Kind { kPlain, kDeleted, kRef } kind = kPlain;
  std::string value;   // Plain value, or the referenced key.
  uint64_t at_tx = 0;  // Of a reference.
};

// What the reopened log says, and the database's reads checked against it.
class Model {
 public:
  // Reads every tx through the database and records what it wrote; each tx
  // is described as a sorted list of "<kind> <key> <what>" strings.
  void Load(Database* db, uint64_t last);

  // What the writer did in an acknowledged write, described as Load does.
  static std::vector<std::string> Describe(const Acked& a);

  const std::vector<std::string>& Desc(uint64_t id) const { return descs_.at(id); }
  const Hash& Alh(uint64_t id) const { return alh_.at(id); }

  // Every read of the database agrees with the log up to tx `last`.
  void CheckReads(Database* db, uint64_t last);

 private:
  const Version* AtTx(const std::string& k, uint64_t tx) const;
  // What Get returns for a version: the value, or nullopt for "not found".
  std::optional<std::string> Expect(const Version& v) const;
  void CheckKey(Database* db, const std::string& k, const std::vector<Version>& versions,
                uint64_t last);

  std::vector<std::vector<std::string>> descs_;
  std::map<uint64_t, Hash> alh_;
  std::map<std::string, std::vector<Version>> keys_;
  std::map<std::string, std::map<std::pair<int, std::string>, uint64_t>> zsets_;
};

}  // namespace immudb::testutil
