// MemFileSystem: an in-memory FileSystem for fast tests.
//
// Files are shared byte strings: an open File keeps its contents alive after
// RemoveFile or a Rename, as an open inode does on POSIX. Directories are
// explicit (OpenFile fails with NotFound if the parent was never created), so
// code that forgets CreateDir fails here as it would on disk. Sync and SyncDir
// are no-ops: everything is "durable" until the process ends.
//
// Thread-safety: the namespace is guarded by one mutex; each file's bytes by
// its own shared_mutex, so readers of one file do not block on another.
#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>

#include "immudb/env.h"

namespace immudb {
namespace {

// Collapses repeated and trailing slashes so "a//b/" and "a/b" name one entry.
std::string Normalize(const std::string& path) {
  if (path == ".") return "";
  if (path.rfind("./", 0) == 0) return Normalize(path.substr(2));
  std::string out;
  out.reserve(path.size());
  for (char c : path) {
    if (c == '/' && !out.empty() && out.back() == '/') continue;
    out.push_back(c);
  }
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

std::string Parent(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return "";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

struct FileData {
  mutable std::shared_mutex mu;
  std::string bytes;  // Guarded by mu.
};

class MemFile final : public File {
 public:
  MemFile(std::string path, std::shared_ptr<FileData> data)
      : path_(std::move(path)), data_(std::move(data)) {}

  Status Append(std::string_view data) override {
    if (closed_) return Status::IOError("append to closed file " + path_);
    std::unique_lock<std::shared_mutex> l(data_->mu);
    data_->bytes.append(data);
    return Status::OK();
  }

  Status ReadAt(uint64_t offset, size_t n, char* dst, size_t* read) const override {
    *read = 0;
    if (closed_) return Status::IOError("read from closed file " + path_);
    std::shared_lock<std::shared_mutex> l(data_->mu);
    const std::string& b = data_->bytes;
    if (offset >= b.size()) return Status::OK();
    *read = std::min<uint64_t>(n, b.size() - offset);
    std::memcpy(dst, b.data() + offset, *read);
    return Status::OK();
  }

  Status Sync() override {
    if (closed_) return Status::IOError("sync of closed file " + path_);
    return Status::OK();
  }

  Status Truncate(uint64_t size) override {
    if (closed_) return Status::IOError("truncate of closed file " + path_);
    std::unique_lock<std::shared_mutex> l(data_->mu);
    if (size > data_->bytes.size()) {
      return Status::InvalidArgument("truncate " + path_ + " to " + std::to_string(size) +
                                     " beyond its size " + std::to_string(data_->bytes.size()));
    }
    data_->bytes.resize(size);
    return Status::OK();
  }

  uint64_t Size() const override {
    std::shared_lock<std::shared_mutex> l(data_->mu);
    return data_->bytes.size();
  }

  // Zeros the range (there are no blocks to give back).
  Status PunchHole(uint64_t offset, uint64_t len) override {
    if (closed_) return Status::IOError("punch hole in closed file " + path_);
    std::unique_lock<std::shared_mutex> l(data_->mu);
    std::string& b = data_->bytes;
    if (offset >= b.size()) return Status::OK();
    const uint64_t n = std::min<uint64_t>(len, b.size() - offset);
    std::memset(b.data() + offset, 0, n);
    return Status::OK();
  }

  Status Close() override {
    closed_ = true;
    return Status::OK();
  }

 private:
  const std::string path_;
  const std::shared_ptr<FileData> data_;
  bool closed_ = false;  // Only the single writer closes.
};

class MemFileSystem;

class MemFileLock final : public FileLock {
 public:
  MemFileLock(MemFileSystem* fs, std::string path) : fs_(fs), path_(std::move(path)) {}
  ~MemFileLock() override;

 private:
  MemFileSystem* const fs_;
  const std::string path_;
};

class MemFileSystem final : public FileSystem {
 public:
  MemFileSystem() { dirs_.insert("/"); }

  Result<std::unique_ptr<File>> OpenFile(const std::string& path, bool create) override {
    const std::string p = Normalize(path);
    std::lock_guard<std::mutex> l(mu_);
    auto it = files_.find(p);
    if (it == files_.end()) {
      if (!create) return Status::NotFound("open " + p + ": no such file");
      if (dirs_.count(p)) return Status::IOError("open " + p + ": is a directory");
      if (!DirExistsLocked(Parent(p))) {
        return Status::NotFound("open " + p + ": parent directory does not exist");
      }
      it = files_.emplace(p, std::make_shared<FileData>()).first;
    }
    return std::unique_ptr<File>(std::make_unique<MemFile>(p, it->second));
  }

  Status CreateDir(const std::string& path) override {
    std::string p = Normalize(path);
    std::lock_guard<std::mutex> l(mu_);
    while (!p.empty() && !dirs_.count(p)) {
      if (files_.count(p)) return Status::IOError("create directory " + p + ": is a file");
      dirs_.insert(p);
      p = Parent(p);
    }
    return Status::OK();
  }

  Status SyncDir(const std::string& path) override {
    const std::string p = Normalize(path);
    std::lock_guard<std::mutex> l(mu_);
    if (!DirExistsLocked(p)) return Status::NotFound("sync directory " + p + ": does not exist");
    return Status::OK();
  }

  Result<std::vector<std::string>> GetChildren(const std::string& dir) override {
    const std::string d = Normalize(dir);
    std::lock_guard<std::mutex> l(mu_);
    if (!DirExistsLocked(d)) return Status::NotFound("list " + d + ": no such directory");
    std::vector<std::string> names;
    auto collect = [&](const std::string& entry) {
      if (entry != d && Parent(entry) == d)
        names.push_back(entry.substr(entry.find_last_of('/') + 1));
    };
    for (const auto& [name, data] : files_) collect(name);
    for (const auto& name : dirs_) collect(name);
    return names;
  }

  bool FileExists(const std::string& path) override {
    const std::string p = Normalize(path);
    std::lock_guard<std::mutex> l(mu_);
    return files_.count(p) > 0 || dirs_.count(p) > 0;
  }

  Result<uint64_t> GetFileSize(const std::string& path) override {
    const std::string p = Normalize(path);
    std::shared_ptr<FileData> data;
    {
      std::lock_guard<std::mutex> l(mu_);
      auto it = files_.find(p);
      if (it == files_.end()) return Status::NotFound("stat " + p + ": no such file");
      data = it->second;
    }
    std::shared_lock<std::shared_mutex> l(data->mu);
    return static_cast<uint64_t>(data->bytes.size());
  }

  Status RemoveFile(const std::string& path) override {
    const std::string p = Normalize(path);
    std::lock_guard<std::mutex> l(mu_);
    if (files_.erase(p) == 0) return Status::NotFound("unlink " + p + ": no such file");
    return Status::OK();
  }

  Status RemoveDir(const std::string& path) override {
    const std::string p = Normalize(path);
    std::lock_guard<std::mutex> l(mu_);
    if (!dirs_.count(p)) return Status::NotFound("rmdir " + p + ": no such directory");
    for (const auto& [name, data] : files_) {
      if (Parent(name) == p) return Status::IOError("rmdir " + p + ": directory not empty");
    }
    for (const auto& name : dirs_) {
      if (name != p && Parent(name) == p) {
        return Status::IOError("rmdir " + p + ": directory not empty");
      }
    }
    dirs_.erase(p);
    return Status::OK();
  }

  Status Rename(const std::string& from, const std::string& to) override {
    const std::string f = Normalize(from), t = Normalize(to);
    std::lock_guard<std::mutex> l(mu_);
    auto it = files_.find(f);
    if (it == files_.end()) {
      if (dirs_.count(f)) return Status::Unimplemented("rename of directory " + f);
      return Status::NotFound("rename " + f + ": no such file");
    }
    if (dirs_.count(t)) return Status::IOError("rename " + f + " to " + t + ": is a directory");
    if (!DirExistsLocked(Parent(t))) {
      return Status::NotFound("rename " + f + " to " + t + ": parent directory does not exist");
    }
    std::shared_ptr<FileData> data = it->second;
    files_.erase(it);
    files_[t] = std::move(data);
    return Status::OK();
  }

  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    const std::string p = Normalize(path);
    std::lock_guard<std::mutex> l(mu_);
    if (!files_.count(p)) {
      if (!DirExistsLocked(Parent(p))) {
        return Status::NotFound("lock " + p + ": parent directory does not exist");
      }
      files_.emplace(p, std::make_shared<FileData>());
    }
    if (!locked_.insert(p).second) return Status::Unavailable("lock " + p + ": already held");
    return std::unique_ptr<FileLock>(std::make_unique<MemFileLock>(this, p));
  }

  void Unlock(const std::string& path) {
    std::lock_guard<std::mutex> l(mu_);
    locked_.erase(path);
  }

 private:
  // Relative paths live under an implicit current directory "".
  bool DirExistsLocked(const std::string& dir) const { return dir.empty() || dirs_.count(dir); }

  std::mutex mu_;
  std::map<std::string, std::shared_ptr<FileData>> files_;  // Guarded by mu_.
  std::set<std::string> dirs_;                              // Guarded by mu_.
  std::set<std::string> locked_;                            // Guarded by mu_.
};

MemFileLock::~MemFileLock() { fs_->Unlock(path_); }

}  // namespace

std::unique_ptr<FileSystem> NewMemFileSystem() { return std::make_unique<MemFileSystem>(); }

}  // namespace immudb
