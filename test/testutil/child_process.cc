#include "testutil/child_process.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <filesystem>
#include <thread>

extern char** environ;

namespace immudb::testutil {

pid_t SpawnChild(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) return -1;
  return pid;
}

uint64_t FileSizeOrZero(const std::string& path) {
  std::error_code ec;
  const auto n = std::filesystem::file_size(path, ec);
  return ec ? 0 : n;
}

int KillAfterProgress(pid_t pid, const std::string& progress,
                      std::chrono::milliseconds first_progress_within, uint64_t max_delay_ms,
                      std::mt19937_64& rng) {
  const uint64_t before = FileSizeOrZero(progress);
  const auto give_up = std::chrono::steady_clock::now() + first_progress_within;
  while (FileSizeOrZero(progress) == before && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(rng() % max_delay_ms));
  if (kill(pid, SIGKILL) != 0) return -1;
  int wstatus = 0;
  if (waitpid(pid, &wstatus, 0) != pid) return -1;
  return wstatus;
}

}  // namespace immudb::testutil
