// FaultInjectionFileSystem: a FileSystem wrapper for crash and error tests.
//
// Durability model. The wrapper remembers, per file (by inode, following
// renames), how many bytes were durable at the last successful File::Sync,
// and whether the file's directory entry is durable:
//  - Bytes appended after the last Sync are volatile. Truncate lowers the
//    durable size at once (a cut is never undone, a simplification).
//  - A file created through this wrapper has a volatile directory entry until
//    SyncDir of its parent directory succeeds. Files that existed before the
//    wrapper first saw them count as fully durable.
//  - Rename(from, to) is volatile until SyncDir of to's directory: a crash
//    puts the file back under `from` (or drops it if `from` itself was
//    volatile) and restores the durable contents `to` had before.
//  - RemoveFile, CreateDir and RemoveDir are treated as durable at once.
//  - File::PunchHole is forwarded and treated as durable at once (a real
//    crash may also bring the old bytes back; both must be handled).
//
// DropUnsyncedData() then applies a simulated crash to the underlying file
// system: volatile entries disappear, volatile renames are undone, and every
// file is cut back to its durable size. With DropOptions::tear_last_write the
// cut is made as if the OS had already written back every unsynced write but
// the last one, and a random prefix (possibly empty) of that last one; with
// `garbage` a few random bytes follow the kept prefix, as a torn sector would.
//
// Power cut: SetActive(false) makes every later operation (including reads
// and Close) fail with IOError until SetActive(true). Typical crash test:
// write, SetActive(false), destroy the objects under test, DropUnsyncedData(),
// SetActive(true), reopen and check.
//
// Injected errors: FailNth(op, n, kind) makes the n-th call of `op` counted
// from now fail (once, or every call from then on if `persistent`). kNoSpace
// fails like ENOSPC; kShortWrite (Append only) writes half of the data first.
// OpCount() tells how many calls of an operation were made, so a test can run
// a workload once to count and then sweep n over 1..count.
//
// Thread-safe. Not for production: bookkeeping is under one mutex.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "immudb/env.h"

namespace immudb::testutil {

enum class FaultOp : int {
  kAppend = 0,
  kSync,
  kRename,
  kOpenFile,
  kSyncDir,
  kTruncate,
  kPunchHole
};
inline constexpr int kNumFaultOps = 7;

enum class FaultKind { kIOError, kNoSpace, kShortWrite };

struct DropOptions {
  // Keep every unsynced write but the last, and a random prefix of the last.
  bool tear_last_write = false;
  // With tear_last_write: random bytes follow the kept prefix.
  bool garbage = false;
  uint64_t seed = 1;
};

class FaultInjectionFileSystem : public FileSystemWrapper {
 public:
  // `target` must outlive this object.
  explicit FaultInjectionFileSystem(FileSystem* target);
  ~FaultInjectionFileSystem() override;

  Result<std::unique_ptr<File>> OpenFile(const std::string& path, bool create) override;
  Status CreateDir(const std::string& path) override;
  Status SyncDir(const std::string& path) override;
  Result<std::vector<std::string>> GetChildren(const std::string& dir) override;
  bool FileExists(const std::string& path) override;
  Result<uint64_t> GetFileSize(const std::string& path) override;
  Status RemoveFile(const std::string& path) override;
  Status RemoveDir(const std::string& path) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override;

  // false: power cut, every operation fails with IOError.
  void SetActive(bool active);
  bool active() const;

  // The n-th (n >= 1) call of `op` from now fails with `kind`.
  void FailNth(FaultOp op, uint64_t n, FaultKind kind = FaultKind::kIOError,
               bool persistent = false);
  // Cancels all pending injected failures.
  void ClearFaults();
  // Calls of `op` made so far (failed ones included).
  uint64_t OpCount(FaultOp op) const;

  // Applies a crash to the target file system (see the header comment).
  // Open File objects of this wrapper should be destroyed first. Returns the
  // first error of the underlying file system.
  Status DropUnsyncedData(const DropOptions& opts = {});

  // Durable size of `path` as tracked, or its current size if untracked.
  uint64_t SyncedSize(const std::string& path);

  struct FileState;  // Public for the File implementation in fault_fs.cc.

  // Used by the File wrapper: counts `op` and returns the error to inject,
  // or OK. *kind receives the kind of an injected failure.
  Status CheckOp(FaultOp op, const std::string& path, FaultKind* kind);
  std::mutex& mu() { return mu_; }

 private:
  Status CheckActive(const std::string& what) const;
  std::shared_ptr<FileState> StateForLocked(const std::string& path);

  struct Fault {
    uint64_t at = 0;  // Call number that fails; 0 means none.
    FaultKind kind = FaultKind::kIOError;
    bool persistent = false;
  };

  mutable std::mutex mu_;
  bool active_ = true;                                       // Guarded by mu_.
  uint64_t counts_[kNumFaultOps] = {};                       // Guarded by mu_.
  Fault faults_[kNumFaultOps];                               // Guarded by mu_.
  std::map<std::string, std::shared_ptr<FileState>> files_;  // Guarded by mu_.
};

}  // namespace immudb::testutil
