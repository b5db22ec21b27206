#include "cmd/common/systemd_service.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace immudb::systemd {

namespace fs = std::filesystem;

std::string UnderRoot(const std::string& root, const std::string& path) {
  std::string r = root;
  while (!r.empty() && r.back() == '/') r.pop_back();
  return r + path;
}

Status WriteFile(const std::string& path, const std::string& text, fs::perms mode) {
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  if (ec) return Status::IOError("cannot create " + fs::path(path).parent_path().string());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Status::IOError("cannot write " + path);
  fs::permissions(path, mode, ec);
  if (ec) return Status::IOError("cannot set the mode of " + path);
  return Status::OK();
}

Status MakeDir(const std::string& path, fs::perms mode) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (!ec) fs::permissions(path, mode, ec);
  if (ec) return Status::IOError("cannot create " + path + ": " + ec.message());
  return Status::OK();
}

Status CheckExecutable(const std::string& bin, const std::string& what) {
  struct stat st;
  if (bin.empty() || bin[0] != '/' || ::stat(bin.c_str(), &st) != 0 || !S_ISREG(st.st_mode) ||
      ::access(bin.c_str(), X_OK) != 0) {
    return Status::InvalidArgument(what + " " + bin +
                                   " is not an executable file (give an absolute path)");
  }
  return Status::OK();
}

Status CheckCanWriteRoot(const std::string& root, uid_t euid) {
  std::error_code ec;
  const fs::path resolved = fs::weakly_canonical(fs::absolute(root.empty() ? "/" : root), ec);
  if (!ec && resolved == fs::path("/") && euid != 0) {
    return Status::PermissionDenied(
        "installing a service under / needs root: run it with sudo (or give --root <dir>)");
  }
  return Status::OK();
}

std::string FindOnPath(const std::string& prog) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    const std::string candidate = dir + "/" + prog;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

Result<int> Systemctl(const std::string& action, const std::string& unit,
                      const std::string& no_systemd_hint) {
  const std::string systemctl = FindOnPath("systemctl");
  if (systemctl.empty()) {
    return Status::FailedPrecondition("systemctl not found: this system does not run systemd, " +
                                      no_systemd_hint);
  }
  pid_t pid = ::fork();
  if (pid < 0) return Status::IOError("cannot start systemctl");
  if (pid == 0) {
    ::execl(systemctl.c_str(), "systemctl", action.c_str(), unit.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  if (::waitpid(pid, &status, 0) < 0) return Status::IOError("cannot wait for systemctl");
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

}  // namespace immudb::systemd
