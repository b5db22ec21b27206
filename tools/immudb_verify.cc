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
  return immudb::store::RunVerifyCommand(argv[1], "immudb-verify");
}
