#include "testutil/fault_rocks_fs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <random>

namespace immudb::testutil {

using rocksdb::FileOptions;
using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;

// A file (an inode) as the wrapper knows it.
struct FaultInjectionRocksFs::Node {
  uint64_t id = 0;
  uint64_t size = 0;                         // Bytes written, as seen through the wrapper.
  uint64_t durable_size = 0;                 // Bytes a power cut keeps.
  std::optional<uint64_t> last_write_start;  // Of the last unsynced write.
  std::string kept;  // Hard link in trash_dir holding the inode; "" if none.
};

// The entries of one directory: as they are now, and as a power cut leaves
// them (as of the last directory sync). Names map to nodes.
struct FaultInjectionRocksFs::DirState {
  std::map<std::string, std::shared_ptr<Node>> current, durable;
};

namespace {

std::string Normal(const std::string& path) {
  std::string p = std::filesystem::path(path).lexically_normal().string();
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

std::pair<std::string, std::string> Split(const std::string& path) {
  const std::string p = Normal(path);
  const size_t slash = p.rfind('/');
  if (slash == std::string::npos) return {".", p};
  return {slash == 0 ? "/" : p.substr(0, slash), p.substr(slash + 1)};
}

std::string Join(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

Status Errno(const std::string& what) {
  return Status::IOError(what + ": " + std::strerror(errno));
}

// A writable file whose writes and syncs the wrapper records.
class FaultWritableFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultWritableFile(std::unique_ptr<rocksdb::FSWritableFile> target, FaultInjectionRocksFs* fs,
                    std::shared_ptr<FaultInjectionRocksFs::Node> node, uint64_t size)
      : FSWritableFileOwnerWrapper(std::move(target)),
        fs_(fs),
        node_(std::move(node)),
        size_(size) {}

  IOStatus Append(const Slice& data, const IOOptions& o, IODebugContext* dbg) override {
    IOStatus s = fs_->CheckActive("append");
    if (s.ok()) s = target()->Append(data, o, dbg);
    if (s.ok()) Appended(size_, data.size());
    return s;
  }
  IOStatus Append(const Slice& data, const IOOptions& o, const rocksdb::DataVerificationInfo& info,
                  IODebugContext* dbg) override {
    IOStatus s = fs_->CheckActive("append");
    if (s.ok()) s = target()->Append(data, o, info, dbg);
    if (s.ok()) Appended(size_, data.size());
    return s;
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& o,
                            IODebugContext* dbg) override {
    IOStatus s = fs_->CheckActive("positioned append");
    if (s.ok()) s = target()->PositionedAppend(data, offset, o, dbg);
    if (s.ok()) Appended(offset, data.size());
    return s;
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& o,
                            const rocksdb::DataVerificationInfo& info,
                            IODebugContext* dbg) override {
    IOStatus s = fs_->CheckActive("positioned append");
    if (s.ok()) s = target()->PositionedAppend(data, offset, o, info, dbg);
    if (s.ok()) Appended(offset, data.size());
    return s;
  }
  IOStatus Truncate(uint64_t size, const IOOptions& o, IODebugContext* dbg) override {
    IOStatus s = fs_->CheckActive("truncate");
    if (s.ok()) s = target()->Truncate(size, o, dbg);
    if (s.ok()) {
      size_ = size;
      fs_->NoteTruncate(node_.get(), size);
    }
    return s;
  }
  IOStatus Sync(const IOOptions& o, IODebugContext* dbg) override {
    const uint64_t size = size_;  // Written before the sync: durable after it.
    IOStatus s = fs_->CheckActive("sync");
    if (s.ok()) s = target()->Sync(o, dbg);
    if (s.ok()) fs_->NoteSync(node_.get(), size);
    return s;
  }
  IOStatus Fsync(const IOOptions& o, IODebugContext* dbg) override {
    const uint64_t size = size_;
    IOStatus s = fs_->CheckActive("fsync");
    if (s.ok()) s = target()->Fsync(o, dbg);
    if (s.ok()) fs_->NoteSync(node_.get(), size);
    return s;
  }
  IOStatus RangeSync(uint64_t offset, uint64_t nbytes, const IOOptions& o,
                     IODebugContext* dbg) override {
    // sync_file_range starts write-back; it makes nothing durable.
    IOStatus s = fs_->CheckActive("range sync");
    if (s.ok()) s = target()->RangeSync(offset, nbytes, o, dbg);
    return s;
  }
  IOStatus Flush(const IOOptions& o, IODebugContext* dbg) override {
    IOStatus s = fs_->CheckActive("flush");
    if (s.ok()) s = target()->Flush(o, dbg);
    return s;
  }
  IOStatus Close(const IOOptions& o, IODebugContext* dbg) override {
    // Releases the descriptor even with the power off.
    IOStatus c = target()->Close(o, dbg);
    IOStatus s = fs_->CheckActive("close");
    return s.ok() ? c : s;
  }
  IOStatus Allocate(uint64_t offset, uint64_t len, const IOOptions& o,
                    IODebugContext* dbg) override {
    IOStatus s = fs_->CheckActive("allocate");
    if (s.ok()) s = target()->Allocate(offset, len, o, dbg);
    return s;
  }

 private:
  void Appended(uint64_t offset, uint64_t len) {
    size_ = std::max<uint64_t>(size_.load(), offset + len);
    fs_->NoteAppend(node_.get(), offset, len);
  }

  FaultInjectionRocksFs* fs_;
  std::shared_ptr<FaultInjectionRocksFs::Node> node_;
  // Writes to one file are serialized by RocksDB; a Sync may run beside an
  // Append (then only what was written before it counts as synced).
  std::atomic<uint64_t> size_;
};

class FaultDirectory : public rocksdb::FSDirectoryWrapper {
 public:
  FaultDirectory(std::unique_ptr<rocksdb::FSDirectory> target, FaultInjectionRocksFs* fs,
                 std::string dir)
      : FSDirectoryWrapper(std::move(target)), fs_(fs), dir_(std::move(dir)) {}

  IOStatus Fsync(const IOOptions& o, IODebugContext* dbg) override {
    IOStatus s = fs_->CheckActive("directory fsync");
    if (s.ok()) s = FSDirectoryWrapper::Fsync(o, dbg);
    if (s.ok()) fs_->NoteDirSync(dir_);
    return s;
  }
  IOStatus FsyncWithDirOptions(const IOOptions& o, IODebugContext* dbg,
                               const rocksdb::DirFsyncOptions& dir_opts) override {
    IOStatus s = fs_->CheckActive("directory fsync");
    if (s.ok()) s = FSDirectoryWrapper::FsyncWithDirOptions(o, dbg, dir_opts);
    if (s.ok()) fs_->NoteDirSync(dir_);
    return s;
  }

 private:
  FaultInjectionRocksFs* fs_;
  std::string dir_;
};

class PowerCutEnv : public rocksdb::EnvWrapper {
 public:
  explicit PowerCutEnv(std::shared_ptr<FaultInjectionRocksFs> fs)
      : EnvWrapper(rocksdb::NewCompositeEnv(fs)), fs_(std::move(fs)) {}
  static const char* kClassName() { return "PowerCutEnv"; }
  const char* Name() const override { return kClassName(); }
  void SleepForMicroseconds(int micros) override {
    if (fs_->active()) target()->SleepForMicroseconds(micros);
  }

 private:
  std::shared_ptr<FaultInjectionRocksFs> fs_;
};

}  // namespace

std::unique_ptr<rocksdb::Env> NewPowerCutEnv(std::shared_ptr<FaultInjectionRocksFs> fs) {
  return std::make_unique<PowerCutEnv>(std::move(fs));
}

FaultInjectionRocksFs::FaultInjectionRocksFs(const std::shared_ptr<rocksdb::FileSystem>& target,
                                             std::string trash_dir)
    : FileSystemWrapper(target), trash_dir_(Normal(trash_dir)) {}

FaultInjectionRocksFs::~FaultInjectionRocksFs() {
  // Hard links a cut did not consume.
  for (const auto& node : kept_) ::unlink(node->kept.c_str());
}

void FaultInjectionRocksFs::SetActive(bool active) {
  std::lock_guard<std::mutex> l(mu_);
  active_ = active;
}

bool FaultInjectionRocksFs::active() const {
  std::lock_guard<std::mutex> l(mu_);
  return active_;
}

uint64_t FaultInjectionRocksFs::file_syncs() const {
  std::lock_guard<std::mutex> l(mu_);
  return file_syncs_;
}

uint64_t FaultInjectionRocksFs::dir_syncs() const {
  std::lock_guard<std::mutex> l(mu_);
  return dir_syncs_;
}

uint64_t FaultInjectionRocksFs::files_dropped() const {
  std::lock_guard<std::mutex> l(mu_);
  return files_dropped_;
}

IOStatus FaultInjectionRocksFs::CheckActive(const std::string& what) const {
  std::lock_guard<std::mutex> l(mu_);
  if (active_) return IOStatus::OK();
  return IOStatus::IOError("power is off", what);
}

void FaultInjectionRocksFs::NoteAppend(Node* node, uint64_t offset, uint64_t len) {
  std::lock_guard<std::mutex> l(mu_);
  node->last_write_start = offset;
  node->size = std::max(node->size, offset + len);
}

void FaultInjectionRocksFs::NoteSync(Node* node, uint64_t size) {
  std::lock_guard<std::mutex> l(mu_);
  file_syncs_++;
  node->durable_size = std::max(node->durable_size, std::min(size, node->size));
  if (node->durable_size >= node->size) node->last_write_start.reset();
}

void FaultInjectionRocksFs::NoteTruncate(Node* node, uint64_t size) {
  std::lock_guard<std::mutex> l(mu_);
  node->size = size;
  node->durable_size = std::min(node->durable_size, size);
  if (node->last_write_start && *node->last_write_start >= size) node->last_write_start.reset();
}

void FaultInjectionRocksFs::NoteDirSync(const std::string& dir) {
  std::lock_guard<std::mutex> l(mu_);
  dir_syncs_++;
  DirState& d = TrackDirLocked(Normal(dir));
  d.durable = d.current;
}

// Starts tracking `dir`: what it holds now counts as durable.
FaultInjectionRocksFs::DirState& FaultInjectionRocksFs::TrackDirLocked(const std::string& dir) {
  auto it = dirs_.find(dir);
  if (it != dirs_.end()) return *it->second;
  auto state = std::make_unique<DirState>();
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    std::error_code type_ec;
    if (!e.is_regular_file(type_ec)) continue;
    auto node = std::make_shared<Node>();
    node->id = next_id_++;
    node->size = node->durable_size = e.file_size(type_ec);
    const std::string name = e.path().filename().string();
    state->current[name] = node;
    state->durable[name] = node;
  }
  return *dirs_.emplace(dir, std::move(state)).first->second;
}

// The node of `path`; a file the wrapper has not seen that exists on disk
// is taken as durable when `adopt`, else nullptr.
std::shared_ptr<FaultInjectionRocksFs::Node> FaultInjectionRocksFs::FindLocked(
    const std::string& path, bool adopt) {
  const auto [dir, name] = Split(path);
  DirState& d = TrackDirLocked(dir);
  auto it = d.current.find(name);
  if (it != d.current.end()) return it->second;
  if (!adopt) return nullptr;
  struct stat st;
  if (::stat(Join(dir, name).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return nullptr;
  auto node = std::make_shared<Node>();
  node->id = next_id_++;
  node->size = node->durable_size = static_cast<uint64_t>(st.st_size);
  d.current[name] = node;
  d.durable[name] = node;
  return node;
}

bool FaultInjectionRocksFs::DurableLocked(const Node* node) const {
  for (const auto& [dir, d] : dirs_) {
    for (const auto& [name, n] : d->durable) {
      if (n.get() == node) return true;
    }
  }
  return false;
}

// Before `path` stops naming `node`: a durable entry names it, so a cut
// must be able to bring it back; keep the inode with a hard link.
IOStatus FaultInjectionRocksFs::KeepLocked(const std::shared_ptr<Node>& node,
                                           const std::string& path) {
  if (!node->kept.empty() || !DurableLocked(node.get())) return IOStatus::OK();
  const std::string kept = trash_dir_ + "/kept-" + std::to_string(node->id);
  if (::link(path.c_str(), kept.c_str()) != 0) {
    return IOStatus::IOError("keep " + path, std::strerror(errno));
  }
  node->kept = kept;
  kept_.insert(node);
  return IOStatus::OK();
}

IOStatus FaultInjectionRocksFs::NewSequentialFile(const std::string& f, const FileOptions& o,
                                                  std::unique_ptr<rocksdb::FSSequentialFile>* r,
                                                  IODebugContext* dbg) {
  IOStatus s = CheckActive("open " + f);
  return s.ok() ? target()->NewSequentialFile(f, o, r, dbg) : s;
}

IOStatus FaultInjectionRocksFs::NewRandomAccessFile(const std::string& f, const FileOptions& o,
                                                    std::unique_ptr<rocksdb::FSRandomAccessFile>* r,
                                                    IODebugContext* dbg) {
  IOStatus s = CheckActive("open " + f);
  return s.ok() ? target()->NewRandomAccessFile(f, o, r, dbg) : s;
}

IOStatus FaultInjectionRocksFs::NewWritableFile(const std::string& f, const FileOptions& o,
                                                std::unique_ptr<rocksdb::FSWritableFile>* r,
                                                IODebugContext* dbg) {
  std::lock_guard<std::mutex> l(mu_);
  if (!active_) return IOStatus::IOError("power is off", "create " + f);
  const auto [dir, name] = Split(f);
  DirState& d = TrackDirLocked(dir);
  std::unique_ptr<rocksdb::FSWritableFile> file;
  IOStatus s = target()->NewWritableFile(f, o, &file, dbg);
  if (!s.ok()) return s;
  std::shared_ptr<Node> node;
  auto it = d.current.find(name);
  if (it != d.current.end()) {
    node = it->second;  // Truncated by the open, durably (a simplification).
  } else {
    node = std::make_shared<Node>();
    node->id = next_id_++;
    d.current[name] = node;
  }
  node->size = node->durable_size = 0;
  node->last_write_start.reset();
  *r = std::make_unique<FaultWritableFile>(std::move(file), this, node, 0);
  return IOStatus::OK();
}

IOStatus FaultInjectionRocksFs::ReopenWritableFile(const std::string& f, const FileOptions& o,
                                                   std::unique_ptr<rocksdb::FSWritableFile>* r,
                                                   IODebugContext* dbg) {
  std::lock_guard<std::mutex> l(mu_);
  if (!active_) return IOStatus::IOError("power is off", "reopen " + f);
  std::shared_ptr<Node> node = FindLocked(f, /*adopt=*/true);
  std::unique_ptr<rocksdb::FSWritableFile> file;
  IOStatus s = target()->ReopenWritableFile(f, o, &file, dbg);
  if (!s.ok()) return s;
  if (node == nullptr) {  // Created by the reopen.
    const auto [dir, name] = Split(f);
    node = std::make_shared<Node>();
    node->id = next_id_++;
    TrackDirLocked(dir).current[name] = node;
  }
  struct stat st;
  if (::stat(f.c_str(), &st) == 0) node->size = static_cast<uint64_t>(st.st_size);
  *r = std::make_unique<FaultWritableFile>(std::move(file), this, node, node->size);
  return IOStatus::OK();
}

IOStatus FaultInjectionRocksFs::ReuseWritableFile(const std::string& f, const std::string&,
                                                  const FileOptions&,
                                                  std::unique_ptr<rocksdb::FSWritableFile>*,
                                                  IODebugContext*) {
  return IOStatus::NotSupported("FaultInjectionRocksFs does not model recycled files", f);
}

IOStatus FaultInjectionRocksFs::NewRandomRWFile(const std::string& f, const FileOptions&,
                                                std::unique_ptr<rocksdb::FSRandomRWFile>*,
                                                IODebugContext*) {
  return IOStatus::NotSupported("FaultInjectionRocksFs does not model random writes", f);
}

IOStatus FaultInjectionRocksFs::NewDirectory(const std::string& name, const IOOptions& o,
                                             std::unique_ptr<rocksdb::FSDirectory>* r,
                                             IODebugContext* dbg) {
  std::lock_guard<std::mutex> l(mu_);
  if (!active_) return IOStatus::IOError("power is off", "open directory " + name);
  std::unique_ptr<rocksdb::FSDirectory> dir;
  IOStatus s = target()->NewDirectory(name, o, &dir, dbg);
  if (!s.ok()) return s;
  TrackDirLocked(Normal(name));
  *r = std::make_unique<FaultDirectory>(std::move(dir), this, Normal(name));
  return IOStatus::OK();
}

IOStatus FaultInjectionRocksFs::FileExists(const std::string& f, const IOOptions& o,
                                           IODebugContext* dbg) {
  IOStatus s = CheckActive("stat " + f);
  return s.ok() ? target()->FileExists(f, o, dbg) : s;
}

IOStatus FaultInjectionRocksFs::GetChildren(const std::string& dir, const IOOptions& o,
                                            std::vector<std::string>* r, IODebugContext* dbg) {
  IOStatus s = CheckActive("list " + dir);
  return s.ok() ? target()->GetChildren(dir, o, r, dbg) : s;
}

IOStatus FaultInjectionRocksFs::GetFileSize(const std::string& f, const IOOptions& o,
                                            uint64_t* size, IODebugContext* dbg) {
  IOStatus s = CheckActive("stat " + f);
  return s.ok() ? target()->GetFileSize(f, o, size, dbg) : s;
}

IOStatus FaultInjectionRocksFs::DeleteFile(const std::string& f, const IOOptions& o,
                                           IODebugContext* dbg) {
  std::lock_guard<std::mutex> l(mu_);
  if (!active_) return IOStatus::IOError("power is off", "delete " + f);
  std::shared_ptr<Node> node = FindLocked(f, /*adopt=*/true);
  if (node != nullptr) {
    IOStatus k = KeepLocked(node, Normal(f));
    if (!k.ok()) return k;
  }
  IOStatus s = target()->DeleteFile(f, o, dbg);
  if (s.ok()) {
    const auto [dir, name] = Split(f);
    TrackDirLocked(dir).current.erase(name);
  }
  return s;
}

IOStatus FaultInjectionRocksFs::Truncate(const std::string& f, size_t size, const IOOptions& o,
                                         IODebugContext* dbg) {
  std::lock_guard<std::mutex> l(mu_);
  if (!active_) return IOStatus::IOError("power is off", "truncate " + f);
  std::shared_ptr<Node> node = FindLocked(f, /*adopt=*/true);
  IOStatus s = target()->Truncate(f, size, o, dbg);
  if (s.ok() && node != nullptr) {
    node->size = size;
    node->durable_size = std::min<uint64_t>(node->durable_size, size);
    if (node->last_write_start && *node->last_write_start >= size) node->last_write_start.reset();
  }
  return s;
}

IOStatus FaultInjectionRocksFs::CreateDir(const std::string& d, const IOOptions& o,
                                          IODebugContext* dbg) {
  IOStatus s = CheckActive("create directory " + d);
  return s.ok() ? target()->CreateDir(d, o, dbg) : s;
}

IOStatus FaultInjectionRocksFs::CreateDirIfMissing(const std::string& d, const IOOptions& o,
                                                   IODebugContext* dbg) {
  IOStatus s = CheckActive("create directory " + d);
  return s.ok() ? target()->CreateDirIfMissing(d, o, dbg) : s;
}

IOStatus FaultInjectionRocksFs::DeleteDir(const std::string& d, const IOOptions& o,
                                          IODebugContext* dbg) {
  std::lock_guard<std::mutex> l(mu_);
  if (!active_) return IOStatus::IOError("power is off", "delete directory " + d);
  IOStatus s = target()->DeleteDir(d, o, dbg);
  if (s.ok()) dirs_.erase(Normal(d));  // Its deletions are durable with it.
  return s;
}

IOStatus FaultInjectionRocksFs::RenameFile(const std::string& from, const std::string& to,
                                           const IOOptions& o, IODebugContext* dbg) {
  std::lock_guard<std::mutex> l(mu_);
  if (!active_) return IOStatus::IOError("power is off", "rename " + from);
  std::shared_ptr<Node> node = FindLocked(from, /*adopt=*/true);
  std::shared_ptr<Node> replaced = FindLocked(to, /*adopt=*/true);
  if (replaced != nullptr && replaced != node) {
    IOStatus k = KeepLocked(replaced, Normal(to));
    if (!k.ok()) return k;
  }
  IOStatus s = target()->RenameFile(from, to, o, dbg);
  if (!s.ok() || node == nullptr || node == replaced) return s;
  const auto [from_dir, from_name] = Split(from);
  const auto [to_dir, to_name] = Split(to);
  TrackDirLocked(from_dir).current.erase(from_name);
  TrackDirLocked(to_dir).current[to_name] = node;
  return s;
}

IOStatus FaultInjectionRocksFs::LinkFile(const std::string& from, const std::string& to,
                                         const IOOptions& o, IODebugContext* dbg) {
  std::lock_guard<std::mutex> l(mu_);
  if (!active_) return IOStatus::IOError("power is off", "link " + from);
  std::shared_ptr<Node> node = FindLocked(from, /*adopt=*/true);
  IOStatus s = target()->LinkFile(from, to, o, dbg);
  if (s.ok() && node != nullptr) {
    const auto [dir, name] = Split(to);
    TrackDirLocked(dir).current[name] = node;
  }
  return s;
}

IOStatus FaultInjectionRocksFs::LockFile(const std::string& f, const IOOptions& o,
                                         rocksdb::FileLock** l, IODebugContext* dbg) {
  IOStatus s = CheckActive("lock " + f);
  return s.ok() ? target()->LockFile(f, o, l, dbg) : s;
}

Status FaultInjectionRocksFs::DropUnsyncedData(const DropOptions& opts) {
  std::lock_guard<std::mutex> l(mu_);
  std::mt19937_64 rng(opts.seed);
  Status first;
  auto note = [&first](Status s) {
    if (!s.ok() && first.ok()) first = std::move(s);
  };
  // 1. Take every tracked name off the disk, keeping the inodes that a
  // durable entry names.
  for (const auto& [dir, d] : dirs_) {
    for (const auto& [name, node] : d->current) {
      const std::string path = Join(dir, name);
      IOStatus k = KeepLocked(node, path);
      if (!k.ok()) note(Status::IOError(k.ToString()));
      if (::unlink(path.c_str()) != 0 && errno != ENOENT) note(Errno("unlink " + path));
      if (node->kept.empty()) files_dropped_++;  // Its entry was never durable.
    }
  }
  // 2. Cut each kept inode to what the power cut leaves of it.
  for (const auto& node : kept_) {
    if (!DurableLocked(node.get())) continue;
    struct stat st;
    if (::stat(node->kept.c_str(), &st) != 0) {
      note(Errno("stat " + node->kept));
      continue;
    }
    const uint64_t size = static_cast<uint64_t>(st.st_size);
    uint64_t keep = std::min(node->durable_size, size);
    std::string garbage;
    const uint64_t start = std::max(node->last_write_start.value_or(size), node->durable_size);
    if (opts.tear_last_write && size > start) {
      const uint64_t len = size - start;
      keep = start + rng() % len;  // Never the whole write.
      if (opts.garbage) garbage.resize(1 + rng() % (len - (keep - start)));
      for (char& c : garbage) c = static_cast<char>(rng());
    }
    if (keep < size || !garbage.empty()) {
      files_dropped_++;
      if (::truncate(node->kept.c_str(), static_cast<off_t>(keep)) != 0) {
        note(Errno("truncate " + node->kept));
      }
    }
    if (!garbage.empty()) {
      const int fd = ::open(node->kept.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
      if (fd < 0 ||
          ::write(fd, garbage.data(), garbage.size()) != static_cast<ssize_t>(garbage.size())) {
        note(Errno("append to " + node->kept));
      }
      if (fd >= 0) ::close(fd);
    }
  }
  // 3. Put the durable entries back.
  for (const auto& [dir, d] : dirs_) {
    for (const auto& [name, node] : d->durable) {
      const std::string path = Join(dir, name);
      if (::unlink(path.c_str()) != 0 && errno != ENOENT) note(Errno("unlink " + path));
      if (::link(node->kept.c_str(), path.c_str()) != 0) note(Errno("restore " + path));
    }
  }
  for (const auto& node : kept_) ::unlink(node->kept.c_str());
  kept_.clear();
  dirs_.clear();
  return first;
}

}  // namespace immudb::testutil
