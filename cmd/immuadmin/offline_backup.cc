#include "cmd/immuadmin/offline_backup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <functional>
#include <iostream>
#include <vector>

#include "cmd/immuadmin/service.h"
#include "cmd/immuadmin/tar_gz.h"
#include "store/log_format.h"
#include "store/verify_dir.h"

namespace immudb::admin {
namespace {

namespace fs = std::filesystem;

// The server identity file: not part of a backup; a restore keeps the
// identity of the directory it replaces (as immudb's immuadmin does).
constexpr char kIdentifierFile[] = "immudb.identifier";

std::string Errno(const std::string& what, const std::string& path, int err) {
  return what + " " + path + ": " + std::strerror(err);
}

// Local time as immudb's snapshot names carry it: 2006-01-02_15-04-05.
std::string Timestamp() {
  const time_t now = std::time(nullptr);
  struct tm tm_buf;
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d_%H-%M-%S", localtime_r(&now, &tm_buf));
  return buf;
}

// `p` absolute and lexically normal, without a trailing '/'.
fs::path CleanPath(const std::string& p) {
  fs::path out = fs::absolute(p).lexically_normal();
  if (out.filename().empty() && out.has_parent_path()) out = out.parent_path();
  return out;
}

bool SameFile(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  return fs::equivalent(a, b, ec);
}

// Refuses the current directory as dbdir (its snapshot would be written
// into it).
void MustNotBeWorkingDir(const fs::path& dir) {
  if (SameFile(dir, fs::current_path())) {
    throw Failure(
        "cannot use the current directory as the database directory: give a subdirectory, "
        "for example --dbdir ./data");
  }
}

void Fsync(const std::string& path, bool dir) {
  const int fd = ::open(path.c_str(), (dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) throw Failure(Errno("open", path, errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) throw Failure(Errno("fsync", path, err));
}

// rename(2) that never replaces `to`.
void RenameNoReplace(const std::string& from, const std::string& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) != 0) {
    throw Failure(Errno("rename " + from + " to", to, errno));
  }
}

// One entry of a directory tree, relative to its root ("" is the root).
struct Entry {
  std::string rel;
  bool dir = false;
  uint64_t size = 0;
  uint32_t mode = 0;
  int64_t mtime = 0;
};

std::string KindOf(mode_t m) {
  if (S_ISLNK(m)) return "a symbolic link";
  if (S_ISCHR(m)) return "a character device";
  if (S_ISBLK(m)) return "a block device";
  if (S_ISFIFO(m)) return "a fifo";
  if (S_ISSOCK(m)) return "a socket";
  return "not a regular file or directory";
}

// The tree under `root` in sorted order, parents first. Failure for
// anything that is not a regular file or a directory. `skip_top` names a
// top-level entry to leave out.
std::vector<Entry> ListTree(const std::string& root, const std::string& skip_top = "") {
  std::vector<Entry> out;
  std::function<void(const std::string&)> walk = [&](const std::string& rel) {
    const std::string path = rel.empty() ? root : root + "/" + rel;
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) throw Failure(Errno("stat", path, errno));
    // The root itself may be reached through a symlink.
    if (rel.empty() && S_ISLNK(st.st_mode) && ::stat(path.c_str(), &st) != 0) {
      throw Failure(Errno("stat", path, errno));
    }
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
      throw Failure(path + " is " + KindOf(st.st_mode) +
                    ": only regular files and directories can be backed up");
    }
    out.push_back({rel, S_ISDIR(st.st_mode), static_cast<uint64_t>(st.st_size),
                   static_cast<uint32_t>(st.st_mode & 0777), static_cast<int64_t>(st.st_mtime)});
    if (!S_ISDIR(st.st_mode)) {
      out.back().size = static_cast<uint64_t>(st.st_size);
      return;
    }
    out.back().size = 0;
    std::vector<std::string> names;
    std::error_code ec;
    for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
      names.push_back(it->path().filename().string());
    }
    if (ec) throw Failure("read directory " + path + ": " + ec.message());
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
      if (rel.empty() && name == skip_top) continue;
      walk(rel.empty() ? name : rel + "/" + name);
    }
  };
  walk("");
  return out;
}

// Copies a regular file to `to` (created, must not exist) and fsyncs it.
void CopyFile(const std::string& from, const std::string& to, const Entry& e) {
  const int in = ::open(from.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (in < 0) throw Failure(Errno("open", from, errno));
  const int out =
      ::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, e.mode | 0600);
  if (out < 0) {
    const int err = errno;
    ::close(in);
    throw Failure(Errno("create", to, err));
  }
  std::vector<char> buf(1 << 16);
  std::string error;
  uint64_t copied = 0;
  while (error.empty()) {
    const ssize_t r = ::read(in, buf.data(), buf.size());
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      error = Errno("read", from, errno);
      break;
    }
    if (r == 0) break;
    for (ssize_t done = 0; done < r;) {
      const ssize_t w = ::write(out, buf.data() + done, static_cast<size_t>(r - done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        error = Errno("write", to, errno);
        break;
      }
      done += w;
    }
    copied += static_cast<uint64_t>(r);
  }
  if (error.empty() && copied != e.size) error = from + " changed while it was being copied";
  if (error.empty() && ::fsync(out) != 0) error = Errno("fsync", to, errno);
  ::close(in);
  ::close(out);
  if (!error.empty()) throw Failure(error);
}

// Fsyncs every directory of `entries` under `root`, deepest first.
void FsyncDirs(const std::string& root, const std::vector<Entry>& entries) {
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    if (it->dir) Fsync(it->rel.empty() ? root : root + "/" + it->rel, true);
  }
}

// Copies `entries` of `from` into the new directory `to`.
void CopyTree(const std::string& from, const std::string& to, const std::vector<Entry>& entries) {
  for (const auto& e : entries) {
    const std::string src = e.rel.empty() ? from : from + "/" + e.rel;
    const std::string dst = e.rel.empty() ? to : to + "/" + e.rel;
    if (!e.dir) {
      CopyFile(src, dst, e);
    } else if (e.rel.empty() ? ::chmod(dst.c_str(), e.mode | 0700) != 0
                             : ::mkdir(dst.c_str(), e.mode | 0700) != 0) {
      throw Failure(Errno("create directory", dst, errno));
    }
  }
  FsyncDirs(to, entries);
}

// Removes a temporary file or directory unless released.
class TempPath {
 public:
  explicit TempPath(std::string path) : path_(std::move(path)) {}
  ~TempPath() {
    if (path_.empty()) return;
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  void Release() { path_.clear(); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A line from stdin; true for y/yes.
bool AskYesNo(const std::string& question) {
  std::cerr << question << " [y/N]: " << std::flush;
  std::string answer = ReadLine("confirmation");
  std::transform(answer.begin(), answer.end(), answer.begin(), ::tolower);
  return answer == "y" || answer == "yes";
}

// The confirmation before the server is stopped (or the user's word that it
// is stopped) and, when immuadmin stops it, the sysadmin's login.
void Confirm(const Settings& s, const std::string& process, const OfflineOptions& o) {
  if (o.manual_stop_start) {
    if (!AskYesNo("The immudb server using " + o.dbdir + " must be stopped now and started " +
                  "again after the " + process + ". Is it stopped?")) {
      throw Failure("Canceled");
    }
    return;
  }
  if (!AskYesNo("The immudb service will be stopped for the " + process +
                " and started again afterwards (if the " + process +
                " is interrupted, start it with `immuadmin service start`). Proceed?")) {
    throw Failure("Canceled");
  }
  const std::string password =
      s.password.empty() ? ReadPassword("Enter admin password:", "admin password") : s.password;
  auto c = OpenClient(s);
  Must(c->Login("immudb", password));
  (void)c->Logout();
}

// Stops the immudb service now and starts it again when destroyed.
class ServiceStop {
 public:
  explicit ServiceStop(bool active) : active_(active) {
    if (!active_) return;
    const int code = Must(Systemctl("stop"));
    if (code != 0) {
      throw Failure("stopping the immudb service failed (systemctl exit code " +
                    std::to_string(code) + "); nothing was changed");
    }
  }
  ~ServiceStop() {
    if (!active_) return;
    auto code = Systemctl("start");
    if (!code.ok() || *code != 0) {
      std::cerr << "immuadmin: starting the immudb service again failed ("
                << (code.ok() ? "systemctl exit code " + std::to_string(*code)
                              : code.status().message())
                << "): start it with `immuadmin service start`\n";
    }
  }
  ServiceStop(const ServiceStop&) = delete;
  ServiceStop& operator=(const ServiceStop&) = delete;

 private:
  bool active_;
};

// Extracts checked archive members below `root` (a fresh directory); the
// archive's top-level directory becomes `root` itself.
class Extractor final : public archive::ArchiveVisitor {
 public:
  explicit Extractor(std::string root) : root_(std::move(root)) {}
  ~Extractor() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Status Directory(const std::string& path, uint32_t mode) override {
    const std::string rel = Rel(path);
    if (rel.empty()) {
      if (::chmod(root_.c_str(), mode | 0700) != 0) {
        return Status::IOError(Errno("chmod", root_, errno));
      }
      return Status::OK();
    }
    return MakeDirs(rel, mode);
  }
  Status FileBegin(const std::string& path, uint32_t mode, uint64_t) override {
    const std::string rel = Rel(path);
    const size_t slash = rel.rfind('/');
    if (slash != std::string::npos) IMMUDB_RETURN_IF_ERROR(MakeDirs(rel.substr(0, slash), 0755));
    file_ = root_ + "/" + rel;
    fd_ = ::open(file_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode | 0600);
    if (fd_ < 0) return Status::IOError(Errno("create", file_, errno));
    return Status::OK();
  }
  Status FileData(const char* data, size_t n) override {
    while (n > 0) {
      const ssize_t w = ::write(fd_, data, n);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return Status::IOError(Errno("write", file_, errno));
      data += w;
      n -= static_cast<size_t>(w);
    }
    return Status::OK();
  }
  Status FileEnd() override {
    const int rc = ::fsync(fd_);
    const int err = errno;
    ::close(fd_);
    fd_ = -1;
    if (rc != 0) return Status::IOError(Errno("fsync", file_, err));
    return Status::OK();
  }

 private:
  // The path below the archive's top-level directory.
  static std::string Rel(const std::string& path) {
    const size_t slash = path.find('/');
    return slash == std::string::npos ? "" : path.substr(slash + 1);
  }
  // Creates each missing directory of `rel`; an existing one must be a real
  // directory (never a link: the tree is ours and holds none).
  Status MakeDirs(const std::string& rel, uint32_t mode) {
    for (size_t end = 0; end != std::string::npos;) {
      end = rel.find('/', end + 1);
      const std::string dir = root_ + "/" + rel.substr(0, end);
      const uint32_t m = end == std::string::npos ? mode : 0755;
      if (::mkdir(dir.c_str(), m | 0700) == 0) continue;
      struct stat st;
      if (errno != EEXIST || ::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        return Status::IOError(Errno("create directory", dir, errno == 0 ? EEXIST : errno));
      }
      if (end == std::string::npos && ::chmod(dir.c_str(), m | 0700) != 0) {
        return Status::IOError(Errno("chmod", dir, errno));
      }
    }
    return Status::OK();
  }

  std::string root_;
  std::string file_;
  int fd_ = -1;
};

// Verifies each database store (a directory with IMMUDB_STORE) directly
// under `dir` and prints one line per database. Failure at the first one
// that does not verify, or when there is none.
void VerifyStores(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_directory() && !e.is_symlink() && fs::is_regular_file(e.path() / store::kFormatFile)) {
      names.push_back(e.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  if (names.empty()) {
    throw Failure(std::string("the snapshot holds no database (no <db>/") + store::kFormatFile +
                  "): the database directory was not changed");
  }
  for (const auto& name : names) {
    auto report = store::VerifyStoreDir(dir + "/" + name, {});
    if (!report.ok()) {
      throw Failure("database '" + name + "' cannot be verified: " + report.status().message() +
                    "; the database directory was not changed");
    }
    if (!report->ok()) {
      throw Failure("database '" + name + "' failed verification: " + report->mismatch->ToString() +
                    "; the database directory was not changed");
    }
    std::cout << "database '" << name << "': " << report->tx_count
              << " transactions verified: OK\n";
  }
}

enum class SnapshotKind { kDirectory, kTarGz };

SnapshotKind KindOfSnapshot(const std::string& snapshot) {
  struct stat st;
  if (::stat(snapshot.c_str(), &st) != 0) throw Failure(Errno("snapshot", snapshot, errno));
  if (S_ISDIR(st.st_mode)) return SnapshotKind::kDirectory;
  if (S_ISREG(st.st_mode) && (snapshot.ends_with(".tar.gz") || snapshot.ends_with(".tgz"))) {
    return SnapshotKind::kTarGz;
  }
  throw Failure("snapshot " + snapshot +
                " has an unsupported format: give a .tar.gz archive or a directory "
                "(an uncompressed snapshot)");
}

}  // namespace

Status CheckNotInUse(const std::string& dir) {
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().filename() != "LOCK" || !it->is_regular_file()) continue;
    const std::string path = it->path().string();
    const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return Status::IOError(Errno("open", path, errno));
    struct flock fl = {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    const int rc = ::fcntl(fd, F_GETLK, &fl);
    const int err = errno;
    ::close(fd);
    if (rc != 0) return Status::IOError(Errno("check lock", path, err));
    if (fl.l_type != F_UNLCK) {
      return Status::FailedPrecondition(dir + " is in use by a running immudb server (process " +
                                        std::to_string(fl.l_pid) + " holds " + path +
                                        "): stop the server first");
    }
  }
  if (ec) return Status::IOError("read directory " + dir + ": " + ec.message());
  return Status::OK();
}

namespace {

void BackupDataDir(const Settings& s, const OfflineOptions& o) {
  const fs::path dbdir = CleanPath(o.dbdir);
  struct stat st;
  if (::stat(dbdir.c_str(), &st) != 0) throw Failure(Errno("database directory", o.dbdir, errno));
  if (!S_ISDIR(st.st_mode)) throw Failure(o.dbdir + " is not a directory");
  MustNotBeWorkingDir(dbdir);
  const std::string name = dbdir.filename().string() + "_bkp_" + Timestamp();
  const std::string target =
      (fs::current_path() / (o.uncompressed ? name : name + ".tar.gz")).string();
  if (fs::symlink_status(target).type() != fs::file_type::not_found) {
    throw Failure(target + " already exists");
  }
  Confirm(s, "backup", o);
  ServiceStop service(!o.manual_stop_start);
  Must(CheckNotInUse(dbdir));
  const std::vector<Entry> entries = ListTree(dbdir, kIdentifierFile);

  TempPath temp(target + ".tmp-" + std::to_string(::getpid()));
  if (o.uncompressed) {
    if (::mkdir(temp.path().c_str(), 0700) != 0) {
      const int err = errno;
      temp.Release();
      throw Failure(Errno("create", target, err));
    }
    CopyTree(dbdir, temp.path(), entries);
  } else {
    const int fd = ::open(temp.path().c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      const int err = errno;
      temp.Release();
      throw Failure(Errno("create", temp.path(), err));
    }
    Status st2 = [&]() -> Status {
      IMMUDB_ASSIGN_OR_RETURN(auto w, archive::TarGzWriter::Open(fd));
      for (const auto& e : entries) {
        const std::string member = e.rel.empty() ? name : name + "/" + e.rel;
        if (e.dir) {
          IMMUDB_RETURN_IF_ERROR(w->AddDirectory(member, e.mode, e.mtime));
        } else {
          IMMUDB_RETURN_IF_ERROR(
              w->AddFile(member, dbdir.string() + "/" + e.rel, e.size, e.mode, e.mtime));
        }
      }
      IMMUDB_RETURN_IF_ERROR(w->Finish());
      if (::fsync(fd) != 0) return Status::IOError(Errno("fsync", temp.path(), errno));
      return Status::OK();
    }();
    if (::close(fd) != 0 && st2.ok()) st2 = Status::IOError(Errno("close", temp.path(), errno));
    Must(st2);
  }
  RenameNoReplace(temp.path(), target);
  temp.Release();
  Fsync(fs::path(target).parent_path().string(), true);
  std::cout << "Database backup created: " << target << "\n";
}

void RestoreDataDir(const Settings& s, const std::string& snapshot, const OfflineOptions& o) {
  const SnapshotKind kind = KindOfSnapshot(snapshot);
  const fs::path dbdir = CleanPath(o.dbdir);
  MustNotBeWorkingDir(dbdir);
  const std::string parent = dbdir.parent_path().string();
  if (!fs::is_directory(parent)) throw Failure("parent directory " + parent + " does not exist");
  const auto dbdir_type = fs::symlink_status(dbdir).type();
  const bool has_old = dbdir_type != fs::file_type::not_found;
  if (has_old && !fs::is_directory(dbdir)) throw Failure(o.dbdir + " is not a directory");
  if (has_old && SameFile(dbdir, fs::path(snapshot))) {
    throw Failure("the snapshot is the database directory itself");
  }

  // The whole snapshot is checked before anything is stopped or written.
  std::vector<Entry> entries;
  if (kind == SnapshotKind::kTarGz) {
    const Status checked = archive::ReadTarGz(snapshot, nullptr);
    if (!checked.ok()) {
      throw Failure(snapshot + ": " + checked.message() + " (refused: nothing was changed)");
    }
  } else {
    entries = ListTree(snapshot);
  }

  Confirm(s, "restore", o);
  ServiceStop service(!o.manual_stop_start);
  if (has_old) Must(CheckNotInUse(dbdir));

  TempPath temp(dbdir.string() + "_restore_tmp_" + std::to_string(::getpid()));
  if (::mkdir(temp.path().c_str(), 0700) != 0) {
    const int err = errno;
    temp.Release();
    throw Failure(Errno("create", dbdir.string() + "_restore_tmp_*", err));
  }
  if (kind == SnapshotKind::kTarGz) {
    Extractor ex(temp.path());
    Must(archive::ReadTarGz(snapshot, &ex).WithPrefix(snapshot));
    FsyncDirs(temp.path(), ListTree(temp.path()));
  } else {
    CopyTree(snapshot, temp.path(), entries);
  }
  // The server keeps its identity across a restore.
  const std::string id = dbdir.string() + "/" + kIdentifierFile;
  if (has_old && fs::is_regular_file(fs::symlink_status(id))) {
    const std::string dst = temp.path() + "/" + kIdentifierFile;
    std::error_code ec;
    fs::remove(dst, ec);
    CopyFile(id, dst, Entry{kIdentifierFile, false, fs::file_size(id), 0600, 0});
  }
  VerifyStores(temp.path());

  std::string old_aside;
  if (has_old) {
    old_aside = dbdir.string() + "_bkp_before_restore_" + Timestamp();
    RenameNoReplace(dbdir, old_aside);
  }
  try {
    RenameNoReplace(temp.path(), dbdir);
  } catch (const Failure&) {
    if (has_old) RenameNoReplace(old_aside, dbdir);
    throw;
  }
  temp.Release();
  Fsync(parent, true);
  std::cout << "Database restored from backup " << snapshot << "\n";
  if (has_old) {
    std::cout << "A backup of the previous database has been also created: " << old_aside << "\n";
  }
}

}  // namespace

// std::filesystem errors (an unreadable directory, a vanished file) become
// Failure like every other error.
void OfflineBackup(const Settings& s, const OfflineOptions& o) {
  try {
    BackupDataDir(s, o);
  } catch (const fs::filesystem_error& e) {
    throw Failure(e.what());
  }
}

void OfflineRestore(const Settings& s, const std::string& snapshot, const OfflineOptions& o) {
  try {
    RestoreDataDir(s, snapshot, o);
  } catch (const fs::filesystem_error& e) {
    throw Failure(e.what());
  }
}

}  // namespace immudb::admin
