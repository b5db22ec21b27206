// PosixFileSystem: the default FileSystem, on open(2), pwrite(2) (or a shared
// mapping for appends into zero-filled space),
// pread(2), fdatasync(2) and fcntl(2) locks.
//
// Thread-safety: a PosixFile's ReadAt uses pread and Append pwrite, so
// neither touches the shared file offset. Append and Prezero serialize on a
// mutex (Prezero's zeros lie after the data, where the next Append writes).
// The data size is cached in an atomic so Size() costs no system call.
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <system_error>

#include "immudb/env.h"

namespace immudb {
namespace {

Status PosixError(const std::string& context, const std::string& path, int err) {
  std::string msg = context + " " + path + ": " + std::strerror(err);
  if (err == ENOENT) return Status::NotFound(msg);
  return Status::IOError(msg);
}

// open(2), retried on EINTR, and the opened file's size; the descriptor is
// closed again when fstat fails. Reads leave the access time alone
// (O_NOATIME): without it every pread checks whether the time is due for an
// update, about a tenth of a cached 100-byte read. Only the file's owner (or
// a process with CAP_FOWNER) may ask for that; anyone else opens the file as
// usual.
Result<int> OpenSized(const std::string& path, int flags, uint64_t* size) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_NOATIME, 0644);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0 && errno == EPERM) {
    do {
      fd = ::open(path.c_str(), flags, 0644);
    } while (fd < 0 && errno == EINTR);
  }
  if (fd < 0) return PosixError("open", path, errno);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    Status s = PosixError("fstat", path, errno);
    ::close(fd);
    return s;
  }
  *size = static_cast<uint64_t>(st.st_size);
  return fd;
}

class PosixFile final : public File {
 public:
  PosixFile(std::string path, int fd, uint64_t size)
      : path_(std::move(path)), fd_(fd), size_(size), end_(size) {}
  ~PosixFile() override {
    Unmap();
    if (fd_ >= 0) ::close(fd_);
  }

  Status Append(std::string_view data) override {
    if (fd_ < 0) return Status::IOError("append to closed file " + path_);
    std::lock_guard<std::mutex> l(wmu_);
    const uint64_t at0 = size_.load(std::memory_order_relaxed);
    // Bytes that land in zeros written by Prezero go through a shared mapping
    // of the file: the same page-cache pages a write(2) would fill, without
    // the system call. Everything else (and any mapping failure) uses pwrite.
    if (map_appends_ && at0 + data.size() <= end_) {
      if (char* dst = MappedRange(at0, data.size())) {
        std::memcpy(dst, data.data(), data.size());
        size_.store(at0 + data.size(), std::memory_order_release);
        return Status::OK();
      }
    }
    const char* p = data.data();
    size_t left = data.size();
    while (left > 0) {
      const uint64_t at = size_.load(std::memory_order_relaxed);
      ssize_t w = ::pwrite(fd_, p, left, static_cast<off_t>(at));
      if (w < 0) {
        if (errno == EINTR) continue;
        return PosixError("write at offset " + std::to_string(at) + " of", path_, errno);
      }
      p += w;
      left -= static_cast<size_t>(w);
      // Published per chunk so that Size() matches the bytes really in the file
      // even when a later chunk fails.
      size_.store(at + static_cast<uint64_t>(w), std::memory_order_release);
      end_ = std::max(end_, at + static_cast<uint64_t>(w));
    }
    return Status::OK();
  }

  Status Prezero(uint64_t end) override {
    if (fd_ < 0) return Status::IOError("prezero of closed file " + path_);
    static const std::string zeros(256 << 10, '\0');
    std::lock_guard<std::mutex> l(wmu_);
    while (end_ < end) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(zeros.size(), end - end_));
      ssize_t w = ::pwrite(fd_, zeros.data(), n, static_cast<off_t>(end_));
      if (w < 0) {
        if (errno == EINTR) continue;
        return PosixError("zero-fill at offset " + std::to_string(end_) + " of", path_, errno);
      }
      end_ += static_cast<uint64_t>(w);
    }
    return Status::OK();
  }

  Status ReadAt(uint64_t offset, size_t n, char* dst, size_t* read) const override {
    *read = 0;
    if (fd_ < 0) return Status::IOError("read from closed file " + path_);
    while (*read < n) {
      ssize_t r = ::pread(fd_, dst + *read, n - *read, static_cast<off_t>(offset + *read));
      if (r < 0) {
        if (errno == EINTR) continue;
        return PosixError("pread at offset " + std::to_string(offset + *read) + " of", path_,
                          errno);
      }
      if (r == 0) break;  // End of file.
      *read += static_cast<size_t>(r);
    }
    return Status::OK();
  }

  Status Sync() override {
    if (fd_ < 0) return Status::IOError("sync of closed file " + path_);
    if (::fdatasync(fd_) != 0) return PosixError("fdatasync", path_, errno);
    return Status::OK();
  }

  Status Truncate(uint64_t size) override {
    if (fd_ < 0) return Status::IOError("truncate of closed file " + path_);
    std::lock_guard<std::mutex> l(wmu_);
    Unmap();
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
      return PosixError("ftruncate to " + std::to_string(size) + " of", path_, errno);
    }
    size_.store(size, std::memory_order_release);
    end_ = size;
    return Status::OK();
  }

  uint64_t Size() const override { return size_.load(std::memory_order_acquire); }

  void MapAppends(bool on) override {
    std::lock_guard<std::mutex> l(wmu_);
    map_appends_ = on;
    if (!on) Unmap();
  }

  Status PunchHole(uint64_t offset, uint64_t len) override {
    if (fd_ < 0) return Status::IOError("punch hole in closed file " + path_);
    if (len == 0) return Status::OK();
    for (;;) {
      if (::fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                      static_cast<off_t>(len)) == 0) {
        return Status::OK();
      }
      if (errno == EINTR) continue;
      if (errno == EOPNOTSUPP) {
        return Status::Unimplemented("the file system of " + path_ + " cannot punch holes");
      }
      return PosixError("punch hole at offset " + std::to_string(offset) + " of", path_, errno);
    }
  }

  Status Close() override {
    if (fd_ < 0) return Status::OK();
    int fd = fd_;
    Status s;
    {
      // Zeros written by Prezero and never overwritten are cut.
      std::lock_guard<std::mutex> l(wmu_);
      Unmap();
      const uint64_t size = size_.load(std::memory_order_relaxed);
      if (end_ > size && ::ftruncate(fd, static_cast<off_t>(size)) != 0) {
        s = PosixError("ftruncate to " + std::to_string(size) + " of", path_, errno);
      }
      end_ = size;
    }
    fd_ = -1;
    if (::close(fd) != 0 && s.ok()) s = PosixError("close", path_, errno);
    return s;
  }

 private:
  // Appends into zero-filled space are copied through a shared, writable
  // mapping of an aligned window of this many bytes.
  static constexpr uint64_t kMapWindow = 256 << 10;

  // The address of file bytes [at, at+n), all below end_, in the mapped
  // window (mapping the window that holds them first); null when they cross
  // a window boundary or the mapping fails (the caller then writes them).
  // REQUIRES: wmu_ held.
  char* MappedRange(uint64_t at, size_t n) {
    if (map_failed_) return nullptr;
    const uint64_t start = at & ~(kMapWindow - 1);
    if (at + n > start + kMapWindow) return nullptr;
    if (map_ == nullptr || map_start_ != start) {
      Unmap();
      void* m = ::mmap(nullptr, kMapWindow, PROT_READ | PROT_WRITE, MAP_SHARED, fd_,
                       static_cast<off_t>(start));
      if (m == MAP_FAILED) {
        map_failed_ = true;
        return nullptr;
      }
      map_ = static_cast<char*>(m);
      map_start_ = start;
    }
    return map_ + (at - start);
  }

  // REQUIRES: wmu_ held.
  void Unmap() {
    if (map_ != nullptr) ::munmap(map_, kMapWindow);
    map_ = nullptr;
  }

  const std::string path_;
  int fd_;
  std::atomic<uint64_t> size_;
  std::mutex wmu_;
  uint64_t end_;  // End of data and zeros in the file. Guarded by wmu_.
  // The mapped window (kMapWindow bytes from file offset map_start_), or
  // null. Only bytes below end_ are ever touched, so no access falls past the
  // end of the file. Guarded by wmu_.
  char* map_ = nullptr;
  uint64_t map_start_ = 0;
  bool map_failed_ = false;
  bool map_appends_ = false;  // MapAppends. Guarded by wmu_.
};

// fcntl locks are per process, so a second LockFile of the same path from the
// same process would succeed silently; this set makes it fail instead.
std::mutex g_locked_mu;
std::set<std::string>& LockedPaths() {
  static auto* paths = new std::set<std::string>;
  return *paths;
}

class PosixFileLock final : public FileLock {
 public:
  PosixFileLock(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixFileLock() override {
    struct flock fl = {};
    fl.l_type = F_UNLCK;
    fl.l_whence = SEEK_SET;
    ::fcntl(fd_, F_SETLK, &fl);
    ::close(fd_);
    std::lock_guard<std::mutex> l(g_locked_mu);
    LockedPaths().erase(path_);
  }

 private:
  const std::string path_;
  const int fd_;
};

class PosixMappedRegion final : public MappedRegion {
 public:
  PosixMappedRegion(void* addr, uint64_t len) : addr_(addr), len_(len) {}
  ~PosixMappedRegion() override { ::munmap(addr_, static_cast<size_t>(len_)); }
  const char* data() const override { return static_cast<const char*>(addr_); }
  uint64_t size() const override { return len_; }

 private:
  void* const addr_;
  const uint64_t len_;
};

class PosixFileSystem final : public FileSystem {
 public:
  Result<std::unique_ptr<MappedRegion>> MapReadOnly(const std::string& path, uint64_t offset,
                                                    uint64_t len) override {
    const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
    if (len == 0 || offset % page != 0) {
      return Status::InvalidArgument("map " + path + ": bad range");
    }
    uint64_t size = 0;
    IMMUDB_ASSIGN_OR_RETURN(const int fd, OpenSized(path, O_RDONLY | O_CLOEXEC, &size));
    if (size < offset + len) {
      ::close(fd);
      return Status::InvalidArgument("map " + path + ": range past the end of the file");
    }
    void* addr = ::mmap(nullptr, static_cast<size_t>(len), PROT_READ, MAP_SHARED, fd,
                        static_cast<off_t>(offset));
    const int err = errno;
    ::close(fd);  // The mapping keeps the file.
    if (addr == MAP_FAILED) return PosixError("mmap", path, err);
    return std::unique_ptr<MappedRegion>(std::make_unique<PosixMappedRegion>(addr, len));
  }

  Result<std::unique_ptr<File>> OpenFile(const std::string& path, bool create) override {
    uint64_t size = 0;
    IMMUDB_ASSIGN_OR_RETURN(const int fd,
                            OpenSized(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), &size));
    return std::unique_ptr<File>(std::make_unique<PosixFile>(path, fd, size));
  }

  Status CreateDir(const std::string& path) override {
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (ec) return Status::IOError("create directory " + path + ": " + ec.message());
    return Status::OK();
  }

  Status SyncDir(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return PosixError("open directory", path, errno);
    Status s;
    if (::fsync(fd) != 0) s = PosixError("fsync directory", path, errno);
    ::close(fd);
    return s;
  }

  Result<std::vector<std::string>> GetChildren(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return PosixError("opendir", dir, errno);
    std::vector<std::string> names;
    while (struct dirent* e = ::readdir(d)) {
      std::string_view name(e->d_name);
      if (name == "." || name == "..") continue;
      names.emplace_back(name);
    }
    ::closedir(d);
    return names;
  }

  bool FileExists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }

  Result<uint64_t> GetFileSize(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return PosixError("stat", path, errno);
    return static_cast<uint64_t>(st.st_size);
  }

  Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return PosixError("unlink", path, errno);
    return Status::OK();
  }

  Status RemoveDir(const std::string& path) override {
    if (::rmdir(path.c_str()) != 0) return PosixError("rmdir", path, errno);
    return Status::OK();
  }

  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return PosixError("rename to " + to + " of", from, errno);
    }
    return Status::OK();
  }

  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    {
      std::lock_guard<std::mutex> l(g_locked_mu);
      if (!LockedPaths().insert(path).second) {
        return Status::Unavailable("lock " + path + ": already held by this process");
      }
    }
    auto release = [&path] {
      std::lock_guard<std::mutex> l(g_locked_mu);
      LockedPaths().erase(path);
    };
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      Status s = PosixError("open lock file", path, errno);
      release();
      return s;
    }
    struct flock fl = {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (::fcntl(fd, F_SETLK, &fl) != 0) {
      int err = errno;
      ::close(fd);
      release();
      if (err == EACCES || err == EAGAIN) {
        return Status::Unavailable("lock " + path + ": held by another process");
      }
      return PosixError("lock", path, err);
    }
    return std::unique_ptr<FileLock>(std::make_unique<PosixFileLock>(path, fd));
  }
};

}  // namespace

FileSystem* FileSystem::Default() {
  static FileSystem* fs = new PosixFileSystem;
  return fs;
}

}  // namespace immudb
