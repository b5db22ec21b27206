// Test helper for the database crash loop: writes through the Database layer
// (store and key index together) from several threads until killed, and
// after each acknowledged write appends a 40-byte record (tx id, thread,
// sequence number, op, key slot; little-endian u64 each) to the
// expected-state file with one write(2) on an O_APPEND descriptor, so a
// SIGKILL leaves only whole records of acknowledged writes behind.
//
// Thread t owns the plain keys "t<t>/k<j>", the reference keys "t<t>/r<j>"
// (j < kSlots) and the sorted set "z<t>". Sequence number seq picks the slot
// and the op (DbCrashOp, db_crash_layout.h); an op that needs a live key falls back to a
// plain set when the slot's key is deleted, and the record names the op that
// ran. Values are derived from (thread, seq, entry) so a reader can check
// them without the writer's memory.
//
// Usage: immudb-db-crash-writer <dir> <expected file> <threads> <synced 0|1>
//        <inline value bytes>
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "immudb/database.h"
#include "testutil/db_model.h"

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr,
                 "usage: %s <dir> <expected file> <threads> <synced 0|1> <inline value bytes>\n",
                 argv[0]);
    return 2;
  }
  immudb::DatabaseOptions opts;
  opts.store.synced = std::atoi(argv[4]) != 0;
  opts.index_inline_value_bytes = static_cast<uint32_t>(std::atoi(argv[5]));
  auto db = immudb::Database::Open(argv[1], opts);
  if (!db.ok()) {
    std::fprintf(stderr, "open: %s\n", db.status().ToString().c_str());
    return 1;
  }
  int fd = open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return 1;
  const int threads = std::atoi(argv[3]);
  // Sequence numbers continue across runs: start above anything written before.
  const uint64_t base = (*db)->CurrentState().tx_id + 1;
  std::vector<std::thread> ts;
  for (int th = 0; th < threads; th++) {
    ts.emplace_back([&, th] {
      const uint64_t t = static_cast<uint64_t>(th);
      immudb::Database* d = db->get();
      auto fail = [](const char* what, const immudb::Status& s) {
        std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
        std::_Exit(1);
      };
      auto state = immudb::testutil::LoadDbCrashThread(d, t);
      if (!state.ok()) fail("get", state.status());
      for (uint64_t seq = base;; seq++) {
        auto a = immudb::testutil::RunDbCrashOp(d, &*state, seq);
        if (!a.ok()) fail("write", a.status());
        uint64_t rec[5] = {a->id, a->thread, a->seq, a->op, a->slot};
        if (write(fd, rec, sizeof(rec)) != sizeof(rec)) std::_Exit(1);
      }
    });
  }
  for (auto& t : ts) t.join();
  return 0;
}
