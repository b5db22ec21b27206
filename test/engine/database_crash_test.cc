// Database crash loop: a child process writes through the Database layer
// (sets with and without waiting for the index, deletes, references, sorted-set
// members, ExecAll with bound references; immudb-db-crash-writer) and records
// every acknowledged write; the parent kills it with SIGKILL at a random
// moment, often while the indexer is writing, reopens the database and checks
//  * every acknowledged write is in its tx, exactly as written;
//  * the key index agrees with the log: for every key, Get (latest, at every
//    revision, at the tx of every version and at a tx that did not write it),
//    History, Scan, ZScan and CountAll give what a model rebuilt from the
//    reopened log says;
//  * the history before the crash is a prefix of the history after it (dual
//    proof through VerifiableTxById), and every tx acknowledged since the
//    last cycle proves into the current state.
// The child alternates synced and unsynced stores and inline index values on
// and off; the parent reopens with either inline setting.
//
// IMMUDB_DB_CRASH_CYCLES sets the number of cycles (default 8).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "database/database_impl.h"
#include "immudb/database.h"
#include "immudb/verify.h"
#include "testutil/child_process.h"
#include "testutil/db_model.h"
#include "testutil/test_util.h"
#include "util/coding.h"

namespace immudb {
namespace {

using testutil::Acked;
using testutil::Model;
using testutil::ReadExpected;
using testutil::TempDir;

std::string BinDir() {
  const char* d = std::getenv("IMMUDB_BIN_DIR");
  return d ? d : IMMUDB_BIN_DIR;
}

TEST(DatabaseCrashTest, AcknowledgedWritesAndTheIndexSurviveSigkill) {
  const int cycles = static_cast<int>(testutil::EnvInt("IMMUDB_DB_CRASH_CYCLES", 8));
  std::mt19937_64 rng(testutil::TestSeed());
  TempDir d;
  const std::string dir = d.Sub("db"), expected = d.Sub("expected");
  StoreState before;        // Trusted state from the previous cycle.
  size_t proved_up_to = 0;  // Acknowledged writes already proved into a state.
  uint64_t indexed_at_open_sum = 0, last_sum = 0;
  for (int c = 0; c < cycles; c++) {
    const bool synced = (c % 4) != 3;
    const std::string inline_bytes = (c % 3) == 1 ? "128" : "0";
    pid_t pid = testutil::SpawnChild({BinDir() + "/immudb-db-crash-writer", dir, expected, "4",
                                      synced ? "1" : "0", inline_bytes});
    ASSERT_GT(pid, 0) << "cannot start " << BinDir() << "/immudb-db-crash-writer";
    // Kill it at a random moment once it writes (a slow start, as under
    // sanitizers, must not make every kill land before the first write).
    const int wstatus =
        testutil::KillAfterProgress(pid, expected, std::chrono::seconds(20), 150, rng);
    ASSERT_NE(wstatus, -1) << "cannot kill or reap the writer";
    ASSERT_TRUE(WIFSIGNALED(wstatus)) << "writer exited early with status " << wstatus;

    DatabaseOptions o;
    o.index_inline_value_bytes = rng() % 2 == 0 ? 0 : 128;
    auto db = Database::Open(dir, o);
    ASSERT_TRUE(db.ok()) << "cycle " << c << ": " << db.status().ToString();
    indexed_at_open_sum += (*db)->IndexedUpTo();
    const StoreState now = (*db)->CurrentState();
    last_sum += now.tx_id;
    Model model;
    ASSERT_NO_FATAL_FAILURE(model.Load(db->get(), now.tx_id)) << "cycle " << c;

    // Every acknowledged write is there as written.
    const std::vector<Acked> acked = ReadExpected(expected);
    for (const Acked& a : acked) {
      ASSERT_LE(a.id, now.tx_id) << "cycle " << c << ": acknowledged tx " << a.id << " lost";
      ASSERT_EQ(model.Desc(a.id), Model::Describe(a)) << "cycle " << c << " tx " << a.id;
    }
    ASSERT_NO_FATAL_FAILURE(model.CheckReads(db->get(), now.tx_id)) << "cycle " << c;

    // The history before this crash is a prefix of the history now, and the
    // writes acknowledged since then prove into the current state.
    ASSERT_GE(now.tx_id, before.tx_id);
    if (before.tx_id > 0) {
      auto vt = (*db)->VerifiableTxById(now.tx_id, before.tx_id);
      ASSERT_TRUE(vt.ok()) << vt.status().ToString();
      ASSERT_TRUE(
          verify::VerifyDualProof(vt->dual_proof, before.tx_id, now.tx_id, before.alh, now.alh))
          << "cycle " << c;
    }
    for (; proved_up_to < acked.size(); proved_up_to++) {
      const uint64_t id = acked[proved_up_to].id;
      auto vt = (*db)->VerifiableTxById(id, now.tx_id);
      ASSERT_TRUE(vt.ok()) << vt.status().ToString();
      ASSERT_TRUE(verify::VerifyDualProof(vt->dual_proof, id, now.tx_id, model.Alh(id), now.alh))
          << "cycle " << c << " tx " << id;
    }
    before = now;
    ASSERT_TRUE((*db)->Close().ok());
  }
  std::fprintf(
      stderr,
      "database crash loop: %d cycles, %zu acknowledged writes, %llu txs; index "
      "covered %.0f%% of the txs on reopen\n",
      cycles, proved_up_to, static_cast<unsigned long long>(before.tx_id),
      last_sum ? 100.0 * static_cast<double>(indexed_at_open_sum) / static_cast<double>(last_sum)
               : 0.0);
  EXPECT_GT(proved_up_to, 0u);
}

}  // namespace
}  // namespace immudb
