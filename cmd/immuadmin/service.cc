#include "cmd/immuadmin/service.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace immudb::admin {
namespace {

namespace fs = std::filesystem;

std::string Join(const std::string& root, const std::string& path) {
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

// The full path of `prog` on $PATH, "" when absent.
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

}  // namespace

ServiceLayout::ServiceLayout(const std::string& root)
    : unit(Join(root, "/etc/systemd/system/immudb.service")),
      config(Join(root, "/etc/immudb/immudb.toml")),
      data_dir(Join(root, "/var/lib/immudb")),
      log_dir(Join(root, "/var/log/immudb")),
      log_file(Join(root, "/var/log/immudb/immudb.log")) {}

std::string ServiceUnit(const ServiceLayout& layout, const std::string& immudb_bin) {
  std::ostringstream u;
  u << "[Unit]\n"
    << "Description=immudb: immutable, verifiable key-value database\n"
    << "Documentation=https://docs.immudb.io\n"
    << "After=network-online.target\n"
    << "Wants=network-online.target\n\n"
    << "[Service]\n"
    << "Type=simple\n"
    << "ExecStart=" << immudb_bin << " --config " << layout.config << "\n"
    << "WorkingDirectory=" << layout.data_dir << "\n"
    << "Restart=on-failure\n"
    << "RestartSec=5\n"
    << "LimitNOFILE=65536\n\n"
    << "[Install]\n"
    << "WantedBy=multi-user.target\n";
  return u.str();
}

std::string DefaultConfig(const ServiceLayout& layout) {
  std::ostringstream c;
  c << "# immudb server configuration, written by `immuadmin service install`.\n"
    << "dir = \"" << layout.data_dir << "\"\n"
    << "address = \"0.0.0.0\"\n"
    << "port = 3322\n"
    << "logfile = \"" << layout.log_file << "\"\n"
    << "auth = true\n"
    << "synced = true\n"
    << "metrics-server = true\n"
    << "metrics-server-port = 9497\n";
  return c.str();
}

Status InstallService(const std::string& root, const std::string& immudb_bin, std::string* report) {
  struct stat st;
  if (immudb_bin.empty() || immudb_bin[0] != '/' || ::stat(immudb_bin.c_str(), &st) != 0 ||
      !S_ISREG(st.st_mode) || ::access(immudb_bin.c_str(), X_OK) != 0) {
    return Status::InvalidArgument("immudb binary " + immudb_bin +
                                   " is not an executable file (give an absolute path)");
  }
  const ServiceLayout l(root);
  if (fs::exists(l.unit)) {
    return Status::AlreadyExists("immudb service is already installed (" + l.unit + ")");
  }
  constexpr auto k644 = fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                        fs::perms::others_read;
  constexpr auto k755 =
      k644 | fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec;
  IMMUDB_RETURN_IF_ERROR(MakeDir(l.data_dir, fs::perms::owner_all));
  *report += "data directory " + l.data_dir + "\n";
  IMMUDB_RETURN_IF_ERROR(MakeDir(l.log_dir, k755));
  *report += "log directory " + l.log_dir + "\n";
  if (fs::exists(l.config)) {
    *report += "config " + l.config + " (kept)\n";
  } else {
    IMMUDB_RETURN_IF_ERROR(WriteFile(l.config, DefaultConfig(l), k644));
    *report += "config " + l.config + "\n";
  }
  IMMUDB_RETURN_IF_ERROR(WriteFile(l.unit, ServiceUnit(l, immudb_bin), k644));
  *report += "unit " + l.unit + "\n";
  return Status::OK();
}

Status UninstallService(const std::string& root, std::string* report) {
  const ServiceLayout l(root);
  if (!fs::exists(l.unit)) {
    return Status::NotFound("immudb service is not installed (no " + l.unit + ")");
  }
  std::error_code ec;
  fs::remove(l.unit, ec);
  if (ec) return Status::IOError("cannot remove " + l.unit + ": " + ec.message());
  *report +=
      "removed " + l.unit + "\nkept " + l.config + ", " + l.data_dir + " and " + l.log_dir + "\n";
  return Status::OK();
}

Result<int> Systemctl(const std::string& action) {
  const std::string systemctl = FindOnPath("systemctl");
  if (systemctl.empty()) {
    return Status::FailedPrecondition(
        "systemctl not found: this system does not run systemd, start immudb directly "
        "(immudb --config <file>)");
  }
  pid_t pid = ::fork();
  if (pid < 0) return Status::IOError("cannot start systemctl");
  if (pid == 0) {
    ::execl(systemctl.c_str(), "systemctl", action.c_str(), "immudb", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  if (::waitpid(pid, &status, 0) < 0) return Status::IOError("cannot wait for systemctl");
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

}  // namespace immudb::admin
