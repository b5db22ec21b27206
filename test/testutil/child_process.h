// Child processes of the crash tests: started, then killed with SIGKILL at a
// random moment once they make progress.
#ifndef IMMUDB_TEST_TESTUTIL_CHILD_PROCESS_H_
#define IMMUDB_TEST_TESTUTIL_CHILD_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace immudb::testutil {

// Starts the program at args[0] with `args` (the environment inherited);
// -1 when it cannot start.
pid_t SpawnChild(const std::vector<std::string>& args);

// The size of the file at `path`; 0 when it does not exist.
uint64_t FileSizeOrZero(const std::string& path);

// Waits until the file `progress` grows past its size at the call (at most
// `first_progress_within`: a slow start, as under sanitizers, must not make
// every kill land before the first write), then rng() % max_delay_ms more
// milliseconds; then kills `pid` with SIGKILL and reaps it. Returns the
// child's wait status, or -1 when it could not be killed or reaped.
int KillAfterProgress(pid_t pid, const std::string& progress,
                      std::chrono::milliseconds first_progress_within, uint64_t max_delay_ms,
                      std::mt19937_64& rng);

}  // namespace immudb::testutil

#endif  // IMMUDB_TEST_TESTUTIL_CHILD_PROCESS_H_
