// FaultInjectionRocksFs: a RocksDB FileSystem wrapper that simulates power
// loss, for crash tests of the key index (RocksDB writes through its own file
// system, not immudb::FileSystem; the store's counterpart is fault_fs.h).
//
// Durability model (what survives a power cut), following what RocksDB's
// POSIX file system promises:
//  - File data. Bytes written (FSWritableFile::Append, PositionedAppend)
//    are volatile until FSWritableFile::Sync (fdatasync) or Fsync (fsync)
//    of that file returns OK: then every byte written before the call is
//    durable. RangeSync (sync_file_range) and Flush make nothing durable, and
//    neither does Close: RocksDB syncs a file it needs before closing it.
//    Truncate lowers the durable size at once (a cut is never undone, a
//    simplification). Opening an existing file with NewWritableFile (which
//    truncates it) drops its durable contents at once, also a simplification
//    in the pessimistic direction.
//  - Directory entries. Creating, renaming, linking and deleting a file are
//    volatile until FSDirectory::Fsync (or FsyncWithDirOptions, whatever its
//    reason: RocksDB's POSIX file system fsyncs the directory for every reason
//    except on btrfs, which is not modelled) of the directory that holds the
//    entry: that makes every entry change made in the directory so far durable
//    at once, as a directory fsync does on ext4 and XFS. A rename is two entry
//    changes: the new name is durable after a sync of the target's directory
//    and the removal of the old name after a sync of the source's (the same
//    one for every rename RocksDB makes: CURRENT, IDENTITY, OPTIONS in the
//    database directory). So a power cut after the rename of a new CURRENT but
//    before the directory sync that RocksDB makes next brings back the old
//    CURRENT.
//  - Files that were on disk when the wrapper first looked at their
//    directory count as wholly durable, entry and bytes.
//  - CreateDir, CreateDirIfMissing and DeleteDir are durable at once; a
//    DeleteDir also makes the deletions made in that directory durable.
//  - Files opened by RocksDB's logger (the LOG file) and by LockFile are not
//    tracked. ReuseWritableFile and NewRandomRWFile, which RocksDB uses only
//    for recycled logs and external files, fail with NotSupported.
//
// SetActive(false) cuts the power: every later write, sync, file open,
// directory change or listing fails with IOError (a read through a file
// opened earlier is not stopped), and Close still releases the descriptor.
// UnlockFile always works, so a database destroyed with the power off can be
// reopened in the same process.
//
// DropUnsyncedData() then applies the cut to the disk below: every tracked
// directory is put back to the entries its last sync made durable (created
// files vanish, deleted and renamed-over files come back, renames are
// undone), and every file is cut back to its durable size. With
// DropOptions::tear_last_write each file instead keeps its unsynced writes
// but the last, and a random prefix (possibly empty) of that one, followed
// with `garbage` by a few random bytes, as fault_fs.h does. Deleted and
// replaced files are kept as hard links in `trash_dir` until the cut, so the
// target must be a local POSIX file system with `trash_dir` on the same
// mount. The wrapper then forgets what it knew: the disk is the durable
// state, and SetActive(true) lets a test reopen on it.
//
// Thread-safe (one mutex). Not for production.
#pragma once

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "immudb/status.h"
#include "testutil/fault_fs.h"

namespace immudb::testutil {

class FaultInjectionRocksFs : public rocksdb::FileSystemWrapper {
 public:
  // `trash_dir` must exist, on the same file system as the files.
  FaultInjectionRocksFs(const std::shared_ptr<rocksdb::FileSystem>& target, std::string trash_dir);
  ~FaultInjectionRocksFs() override;

  static const char* kClassName() { return "FaultInjectionRocksFs"; }
  const char* Name() const override { return kClassName(); }

  rocksdb::IOStatus NewSequentialFile(const std::string& f, const rocksdb::FileOptions& o,
                                      std::unique_ptr<rocksdb::FSSequentialFile>* r,
                                      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewRandomAccessFile(const std::string& f, const rocksdb::FileOptions& o,
                                        std::unique_ptr<rocksdb::FSRandomAccessFile>* r,
                                        rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                       std::unique_ptr<rocksdb::FSWritableFile>* r,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& f, const std::string& old,
                                      const rocksdb::FileOptions& o,
                                      std::unique_ptr<rocksdb::FSWritableFile>* r,
                                      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewRandomRWFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSRandomRWFile>* r,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewDirectory(const std::string& name, const rocksdb::IOOptions& o,
                                 std::unique_ptr<rocksdb::FSDirectory>* r,
                                 rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus FileExists(const std::string& f, const rocksdb::IOOptions& o,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus GetChildren(const std::string& dir, const rocksdb::IOOptions& o,
                                std::vector<std::string>* r, rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus GetFileSize(const std::string& f, const rocksdb::IOOptions& o, uint64_t* size,
                                rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteFile(const std::string& f, const rocksdb::IOOptions& o,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus Truncate(const std::string& f, size_t size, const rocksdb::IOOptions& o,
                             rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus CreateDir(const std::string& d, const rocksdb::IOOptions& o,
                              rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus CreateDirIfMissing(const std::string& d, const rocksdb::IOOptions& o,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteDir(const std::string& d, const rocksdb::IOOptions& o,
                              rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus RenameFile(const std::string& s, const std::string& t,
                               const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus LinkFile(const std::string& s, const std::string& t,
                             const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus LockFile(const std::string& f, const rocksdb::IOOptions& o,
                             rocksdb::FileLock** l, rocksdb::IODebugContext* dbg) override;

  // false: power cut (see the header comment).
  void SetActive(bool active);
  bool active() const;

  // Applies the power cut to the disk (see the header comment). Every file
  // RocksDB opened through this wrapper must be closed (the database
  // destroyed) first. Returns the first error met.
  Status DropUnsyncedData(const DropOptions& opts = {});

  // Successful file syncs and directory syncs so far, and files the last
  // DropUnsyncedData cut shorter or removed: a test can check that its
  // workload reached the cases it means to cover.
  uint64_t file_syncs() const;
  uint64_t dir_syncs() const;
  uint64_t files_dropped() const;

  // Used by the file and directory wrappers in fault_rocks_fs.cc.
  struct Node;
  rocksdb::IOStatus CheckActive(const std::string& what) const;
  void NoteAppend(Node* node, uint64_t offset, uint64_t len);
  void NoteSync(Node* node, uint64_t size);
  void NoteTruncate(Node* node, uint64_t size);
  void NoteDirSync(const std::string& dir);

 private:
  struct DirState;
  DirState& TrackDirLocked(const std::string& dir);
  std::shared_ptr<Node> FindLocked(const std::string& path, bool adopt);
  bool DurableLocked(const Node* node) const;
  rocksdb::IOStatus KeepLocked(const std::shared_ptr<Node>& node, const std::string& path);

  const std::string trash_dir_;
  mutable std::mutex mu_;
  bool active_ = true;                                           // Guarded by mu_.
  uint64_t next_id_ = 1;                                         // Guarded by mu_.
  std::map<std::string, std::unique_ptr<DirState>> dirs_;        // Guarded by mu_.
  std::set<std::shared_ptr<Node>> kept_;                         // Guarded by mu_.
  uint64_t file_syncs_ = 0, dir_syncs_ = 0, files_dropped_ = 0;  // Guarded by mu_.
};

// An Env for RocksDB over `fs` (which it keeps alive). RocksDB waits a second
// after every failed background flush before it tries again; while `fs` has
// the power off, this Env's sleeps return at once, so a test that destroys a
// database after a power cut does not wait for them.
std::unique_ptr<rocksdb::Env> NewPowerCutEnv(std::shared_ptr<FaultInjectionRocksFs> fs);

}  // namespace immudb::testutil
