// Test helper for the crash loop: commits transactions from several threads
// until killed, and after each acknowledged commit appends a 24-byte record
// (tx id, thread, sequence number; little-endian u64 each) to the
// expected-state file with one write(2) on an O_APPEND descriptor, so a
// SIGKILL leaves only whole records of acknowledged transactions behind.
//
// Usage: immudb-crash-writer <store dir> <expected file> <threads> <synced 0|1>
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "immudb/store.h"

namespace {

// The value of entry e of (thread, seq): derived from its key so a reader can
// check it without the writer's memory.
std::string ValueFor(const std::string& key) {
  std::string v = "value-of-";
  v.append(key).append(40, '.');
  return v;
}

std::string KeyFor(uint64_t thread, uint64_t seq, int e) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "w%llu-%llu-%d", static_cast<unsigned long long>(thread),
                static_cast<unsigned long long>(seq), e);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s <store dir> <expected file> <threads> <synced 0|1>\n", argv[0]);
    return 2;
  }
  immudb::StoreOptions opts;
  opts.synced = std::atoi(argv[4]) != 0;
  auto store = immudb::Store::Open(argv[1], opts);
  if (!store.ok()) {
    std::fprintf(stderr, "open: %s\n", store.status().ToString().c_str());
    return 1;
  }
  int fd = open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return 1;
  const int threads = std::atoi(argv[3]);
  std::vector<std::thread> ts;
  // Sequence numbers continue across runs: start above anything written before.
  const uint64_t base = (*store)->CurrentState().tx_id + 1;
  for (int t = 0; t < threads; t++) {
    ts.emplace_back([&, t] {
      for (uint64_t seq = base;; seq++) {
        std::vector<immudb::EntrySpec> es;
        const int n = 1 + static_cast<int>(seq % 3);
        for (int e = 0; e < n; e++) {
          std::string k = KeyFor(t, seq, e);
          es.push_back({k, ValueFor(k), {}});
        }
        auto h = (*store)->Commit(std::move(es));
        if (!h.ok()) {
          std::fprintf(stderr, "commit: %s\n", h.status().ToString().c_str());
          std::_Exit(1);
        }
        uint64_t rec[3] = {h->id, static_cast<uint64_t>(t), seq};
        if (write(fd, rec, sizeof(rec)) != sizeof(rec)) std::_Exit(1);
      }
    });
  }
  for (auto& t : ts) t.join();
  return 0;
}
