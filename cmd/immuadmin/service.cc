#include "cmd/immuadmin/service.h"

#include <filesystem>
#include <sstream>

#include "cmd/common/systemd_service.h"

namespace immudb::admin {
namespace {

namespace fs = std::filesystem;
using systemd::MakeDir;
using systemd::UnderRoot;
using systemd::WriteFile;

}  // namespace

ServiceLayout::ServiceLayout(const std::string& root)
    : unit(UnderRoot(root, "/etc/systemd/system/immudb.service")),
      config(UnderRoot(root, "/etc/immudb/immudb.toml")),
      data_dir(UnderRoot(root, "/var/lib/immudb")),
      log_dir(UnderRoot(root, "/var/log/immudb")),
      log_file(UnderRoot(root, "/var/log/immudb/immudb.log")) {}

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
  IMMUDB_RETURN_IF_ERROR(systemd::CheckExecutable(immudb_bin, "immudb binary"));
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
  return systemd::Systemctl(action, "immudb", "start immudb directly (immudb --config <file>)");
}

}  // namespace immudb::admin
