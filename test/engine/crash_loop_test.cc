// Crash loop: a child process commits from several threads and records every
// acknowledged tx id; the parent kills it with SIGKILL at a random moment,
// reopens the store and checks that every acknowledged transaction is there,
// holds exactly what was written, chains, and that the history before the
// crash is a prefix of the history after it (dual proof).
//
// IMMUDB_CRASH_CYCLES sets the number of cycles (default 50).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "immudb/store.h"
#include "immudb/verify.h"
#include "testutil/child_process.h"
#include "testutil/test_util.h"

namespace immudb {
namespace {

using testutil::TempDir;

struct Acked {
  uint64_t id, thread, seq;
};

std::vector<Acked> ReadExpected(const std::string& path) {
  std::vector<Acked> out;
  std::ifstream f(path, std::ios::binary);
  uint64_t rec[3];
  while (f.read(reinterpret_cast<char*>(rec), sizeof(rec))) out.push_back({rec[0], rec[1], rec[2]});
  return out;
}

std::string BinDir() {
  const char* d = std::getenv("IMMUDB_BIN_DIR");
  return d ? d : IMMUDB_BIN_DIR;
}

void CheckAcked(Store* s, const std::vector<Acked>& acked) {
  const uint64_t last = s->CurrentState().tx_id;
  for (const Acked& a : acked) {
    ASSERT_LE(a.id, last) << "acknowledged tx " << a.id << " lost";
    auto tx = s->ReadTx(a.id);
    ASSERT_TRUE(tx.ok()) << "tx " << a.id << ": " << tx.status().ToString();
    const int n = 1 + static_cast<int>(a.seq % 3);
    ASSERT_EQ(tx->entries.size(), static_cast<size_t>(n));
    for (int e = 0; e < n; e++) {
      std::string k =
          "w" + std::to_string(a.thread) + "-" + std::to_string(a.seq) + "-" + std::to_string(e);
      ASSERT_EQ(tx->entries[e].key, k);
      auto v = s->ReadValue(tx->entries[e]);
      ASSERT_TRUE(v.ok()) << v.status().ToString();
      ASSERT_EQ(*v, "value-of-" + k + std::string(40, '.'));
    }
  }
}

TEST(CrashLoopTest, EveryAcknowledgedTxSurvivesSigkill) {
  const int cycles = static_cast<int>(testutil::EnvInt("IMMUDB_CRASH_CYCLES", 50));
  std::mt19937_64 rng(testutil::TestSeed());
  TempDir d;
  const std::string dir = d.Sub("store"), expected = d.Sub("expected");
  StoreState before;  // Trusted state from the previous cycle.
  size_t total_acked = 0;
  for (int c = 0; c < cycles; c++) {
    const bool synced = (c % 4) != 3;  // Mostly synced; unsynced survives a process crash too.
    pid_t pid = testutil::SpawnChild(
        {BinDir() + "/immudb-crash-writer", dir, expected, "8", synced ? "1" : "0"});
    ASSERT_GT(pid, 0) << "cannot start " << BinDir() << "/immudb-crash-writer";
    // Kill it at a random moment once it commits: after its first
    // acknowledgement (a slow start, as under sanitizers, must not make
    // every kill land before the first commit).
    const int wstatus =
        testutil::KillAfterProgress(pid, expected, std::chrono::seconds(10), 60, rng);
    ASSERT_NE(wstatus, -1) << "cannot kill or reap the writer";
    ASSERT_TRUE(WIFSIGNALED(wstatus)) << "writer exited early with status " << wstatus;

    auto s = Store::Open(dir, {});
    ASSERT_TRUE(s.ok()) << "cycle " << c << ": " << s.status().ToString();
    auto acked = ReadExpected(expected);
    ASSERT_NO_FATAL_FAILURE(CheckAcked(s->get(), acked)) << "cycle " << c;
    total_acked = acked.size();

    // The history seen before this crash is a prefix of the history now.
    StoreState now = (*s)->CurrentState();
    ASSERT_GE(now.tx_id, before.tx_id);
    if (before.tx_id > 0) {
      auto src = (*s)->ReadTxHeader(before.tx_id);
      auto dst = (*s)->ReadTxHeader(now.tx_id);
      ASSERT_TRUE(src.ok() && dst.ok());
      auto proof = (*s)->BuildDualProof(*src, *dst);
      ASSERT_TRUE(proof.ok()) << proof.status().ToString();
      ASSERT_TRUE(verify::VerifyDualProof(*proof, before.tx_id, now.tx_id, before.alh, now.alh))
          << "cycle " << c;
    }
    before = now;
    ASSERT_TRUE((*s)->Close().ok());
  }
  std::fprintf(stderr, "crash loop: %d cycles, %zu acknowledged txs, %llu txs in store\n", cycles,
               total_acked, static_cast<unsigned long long>(before.tx_id));
  EXPECT_GT(total_acked, 0u);
}

}  // namespace
}  // namespace immudb
