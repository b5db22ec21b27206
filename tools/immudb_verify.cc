// immudb-verify: offline integrity check of a store directory.
//
//   immudb-verify <dir>
//
// Re-reads and re-hashes every transaction, value and AHT record of the store
// without changing anything (docs/format/store.md, "Offline verification").
// Exit status: 0 when everything verifies, 1 on the first mismatch or when
// the store cannot be read, 2 on a usage error.
#include <cstdio>
#include <cstring>
#include <string>

#include "immudb/hash.h"
#include "store/verify_dir.h"

namespace {

constexpr char kUsage[] =
    "usage: immudb-verify <dir>\n"
    "Verifies every transaction, value and AHT record of the store in <dir>\n"
    "without modifying it. Exits 0 if it verifies, 1 if not, 2 on usage errors.\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && (std::strcmp(argv[1], "-h") == 0 || std::strcmp(argv[1], "--help") == 0)) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (argc != 2 || argv[1][0] == '\0' || argv[1][0] == '-') {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const std::string dir = argv[1];
  auto report = immudb::store::VerifyStoreDir(dir, immudb::store::VerifyDirOptions{});
  if (!report.ok()) {
    std::fprintf(stderr, "immudb-verify: %s: %s\n", dir.c_str(),
                 report.status().ToString().c_str());
    return 1;
  }
  if (report->mismatch) {
    const immudb::store::VerifyMismatch& m = *report->mismatch;
    std::printf("%s\n", m.ToString().c_str());
    std::printf("verification FAILED after %llu verified transactions\n",
                static_cast<unsigned long long>(report->tx_count));
    if (m.maybe_torn_tail) {
      std::printf(
          "note: this part of the store was not yet known to be durable; a crash can leave\n"
          "such a torn tail, which opening the store cuts back\n");
    }
    return 1;
  }
  std::printf("verified %llu transactions, %llu bytes: OK\n",
              static_cast<unsigned long long>(report->tx_count),
              static_cast<unsigned long long>(report->bytes_checked));
  std::printf("last tx %llu, alh %s\n", static_cast<unsigned long long>(report->tx_count),
              immudb::ToHex(report->last_alh).c_str());
  return 0;
}
