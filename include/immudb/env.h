// FileSystem: every file access of the engine goes through this interface, so
// tests can substitute an in-memory or fault-injecting implementation.
//
// Implementations must be thread-safe. A File is used by one writer at a time
// (Append/Sync/Truncate/Close are externally serialized), while ReadAt may be
// called concurrently from any thread, including during an Append.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "immudb/result.h"
#include "immudb/status.h"

namespace immudb {

// An open file that is read at arbitrary offsets and only grows at its end
// (or is cut back with Truncate).
class File {
 public:
  virtual ~File() = default;

  // Writes data at the current end of the file (no user-space buffering).
  // On error some prefix of data may have been written.
  virtual Status Append(std::string_view data) = 0;

  // Reads up to n bytes at offset into dst and sets *read to the number of
  // bytes read; fewer than n only at end of file. Thread-safe.
  virtual Status ReadAt(uint64_t offset, size_t n, char* dst, size_t* read) const = 0;

  // Makes all appended data durable (fdatasync). After a failed Sync the file's
  // durable contents are unknown: callers must not retry and carry on.
  virtual Status Sync() = 0;

  // Cuts the file to `size` bytes (REQUIRES: size <= Size()). Not durable
  // until Sync.
  virtual Status Truncate(uint64_t size) = 0;

  // Current size, including data appended but not yet synced.
  virtual uint64_t Size() const = 0;

  // Writes zero bytes after the file's data (and after zeros written by an
  // earlier call) up to `end`, without moving the append position: later
  // Appends overwrite them in place. On file systems where overwriting
  // written blocks needs no metadata update, this makes each later Sync
  // cheaper. Not durable until Sync; may run concurrently with Append.
  // Truncate and Close cut the zeros. The default does nothing.
  virtual Status Prezero(uint64_t end) {
    (void)end;
    return Status::OK();
  }

  // A hint: later Appends that land in zeros written by Prezero may be
  // copied through a shared mapping of the file instead of written with a
  // system call. That makes small appends cheaper, and each sync dearer (the
  // kernel write-protects every mapped page it cleans), so it suits files
  // synced seldom. The default ignores it.
  virtual void MapAppends(bool on) { (void)on; }

  // Discards the bytes [offset, offset + len) of the file's data: they read
  // as zeros afterwards, the file keeps its size, and whole file-system
  // blocks inside the range are given back to the file system (Linux
  // fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)). May run
  // concurrently with Append and ReadAt on other ranges. Not durable until
  // Sync (a crash may bring the old bytes back). Unimplemented where the file
  // system cannot do it (the default).
  virtual Status PunchHole(uint64_t offset, uint64_t len) {
    (void)offset;
    (void)len;
    return Status::Unimplemented("punching holes is not supported by this file system");
  }

  virtual Status Close() = 0;
};

// An exclusive lock held on a path until destroyed.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

// A read-only shared mapping of part of a file; unmapped when destroyed. The
// bytes follow later writes to the file. Reading a byte past the file's end
// (a file cut shorter after mapping) kills the process (SIGBUS): map only
// ranges the file keeps.
class MappedRegion {
 public:
  virtual ~MappedRegion() = default;
  virtual const char* data() const = 0;
  virtual uint64_t size() const = 0;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // The process-wide POSIX file system. Never deleted.
  static FileSystem* Default();

  // Opens `path` for reading and appending. If it does not exist it is created
  // when `create` is true (the new directory entry is durable only after
  // SyncDir of its parent), else NotFound is returned.
  virtual Result<std::unique_ptr<File>> OpenFile(const std::string& path, bool create) = 0;

  // Creates a directory and any missing parents; OK if it already exists.
  virtual Status CreateDir(const std::string& path) = 0;
  // fsyncs a directory so created, renamed and removed entries are durable.
  virtual Status SyncDir(const std::string& path) = 0;
  // Names (not paths) of the entries of a directory, excluding "." and "..".
  virtual Result<std::vector<std::string>> GetChildren(const std::string& dir) = 0;
  virtual bool FileExists(const std::string& path) = 0;
  virtual Result<uint64_t> GetFileSize(const std::string& path) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  // Removes an empty directory.
  virtual Status RemoveDir(const std::string& path) = 0;
  // Atomically replaces `to` with `from` (rename(2)).
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  // Takes an exclusive advisory lock on `path` (created if missing). Fails with
  // Unavailable if another process or another open holds it.
  virtual Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) = 0;
  // Maps bytes [offset, offset + len) of `path` for reading; `offset` must be
  // a multiple of the page size, and the file at least offset + len long
  // (else InvalidArgument). Unimplemented where files cannot be mapped (the
  // in-memory file system, and wrappers: tests that wrap a file system to
  // inject faults keep every read on File::ReadAt).
  virtual Result<std::unique_ptr<MappedRegion>> MapReadOnly(const std::string& path,
                                                            uint64_t offset, uint64_t len) {
    (void)path;
    (void)offset;
    (void)len;
    return Status::Unimplemented("file mapping");
  }
};

// Reads a whole file into a string.
Result<std::string> ReadFileToString(FileSystem* fs, const std::string& path);

// Writes a small file durably and atomically: write `path`.tmp, sync it,
// rename over `path`, sync the directory.
Status WriteFileAtomic(FileSystem* fs, const std::string& path, std::string_view data);

// A FileSystem that forwards every call to another; tests override a method.
class FileSystemWrapper : public FileSystem {
 public:
  explicit FileSystemWrapper(FileSystem* target) : target_(target) {}
  FileSystem* target() const { return target_; }

  Result<std::unique_ptr<File>> OpenFile(const std::string& path, bool create) override {
    return target_->OpenFile(path, create);
  }
  Status CreateDir(const std::string& path) override { return target_->CreateDir(path); }
  Status SyncDir(const std::string& path) override { return target_->SyncDir(path); }
  Result<std::vector<std::string>> GetChildren(const std::string& dir) override {
    return target_->GetChildren(dir);
  }
  bool FileExists(const std::string& path) override { return target_->FileExists(path); }
  Result<uint64_t> GetFileSize(const std::string& path) override {
    return target_->GetFileSize(path);
  }
  Status RemoveFile(const std::string& path) override { return target_->RemoveFile(path); }
  Status RemoveDir(const std::string& path) override { return target_->RemoveDir(path); }
  Status Rename(const std::string& from, const std::string& to) override {
    return target_->Rename(from, to);
  }
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    return target_->LockFile(path);
  }

 private:
  FileSystem* target_;
};

// A new, empty in-memory file system (for fast tests). Thread-safe.
std::unique_ptr<FileSystem> NewMemFileSystem();

}  // namespace immudb
