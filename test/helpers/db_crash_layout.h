// What the database crash loop's writer (test/helpers/db_crash_writer.cc) and
// its checker (test/engine/database_crash_test.cc) agree on: key slots, the
// ops a record names, and the keys and values derived from them.
#ifndef IMMUDB_TEST_HELPERS_DB_CRASH_LAYOUT_H_
#define IMMUDB_TEST_HELPERS_DB_CRASH_LAYOUT_H_

#include <cstdint>
#include <string>

namespace immudb::db_crash {

constexpr uint64_t kSlots = 8;

enum DbCrashOp : uint64_t {
  kSetOne = 0,     // k<j> = V(t, seq, 0), waiting for the index.
  kSetTwo = 1,     // k<j>, k<j+1> = V(t, seq, 0), V(t, seq, 1); without waiting.
  kDelete = 2,     // Delete k<j>.
  kReference = 3,  // r<j> -> k<j> (at_tx 0).
  kZAdd = 4,       // z<t> gets k<j> with score seq % 5.
  kExecAll = 5,    // k<j> = V(t, seq, 0) and r<j> -> k<j> bound to the tx.
};

inline std::string PlainKey(uint64_t t, uint64_t j) {
  return "t" + std::to_string(t) + "/k" + std::to_string(j);
}
inline std::string RefKey(uint64_t t, uint64_t j) {
  return "t" + std::to_string(t) + "/r" + std::to_string(j);
}
inline std::string ValueOf(uint64_t t, uint64_t seq, int e) {
  return "v" + std::to_string(t) + "-" + std::to_string(seq) + "-" + std::to_string(e) +
         std::string(seq % 90, '.');
}

}  // namespace immudb::db_crash

#endif  // IMMUDB_TEST_HELPERS_DB_CRASH_LAYOUT_H_
