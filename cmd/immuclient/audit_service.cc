#include "cmd/immuclient/audit_service.h"

#include <unistd.h>

#include <filesystem>
#include <sstream>

#include "cmd/common/systemd_service.h"

namespace immudb::immuclient {
namespace {

namespace fs = std::filesystem;

// A TOML basic string.
std::string Quote(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

AuditServiceLayout::AuditServiceLayout(const std::string& root)
    : unit(systemd::UnderRoot(root, "/etc/systemd/system/immuclient.service")),
      config(systemd::UnderRoot(root, "/etc/immuclient/immuclient.toml")),
      state_dir(systemd::UnderRoot(root, "/var/lib/immuclient/auditor")) {}

std::string AuditServiceUnit(const AuditServiceLayout& layout, const std::string& immuclient_bin) {
  std::ostringstream u;
  u << "[Unit]\n"
    << "Description=immuclient audit-mode: watches an immudb server for tampering\n"
    << "Documentation=https://docs.immudb.io\n"
    << "After=network-online.target\n"
    << "Wants=network-online.target\n\n"
    << "[Service]\n"
    << "Type=simple\n"
    << "ExecStart=" << immuclient_bin << " --config " << layout.config << " audit-mode\n"
    << "WorkingDirectory=" << layout.state_dir << "\n"
    << "Restart=on-failure\n"
    << "RestartSec=5\n\n"
    << "[Install]\n"
    << "WantedBy=multi-user.target\n";
  return u.str();
}

std::string AuditServiceConfig(const AuditServiceLayout& layout,
                               const std::vector<AuditSetting>& settings) {
  std::ostringstream c;
  c << "# immuclient audit-mode settings, written by `immuclient audit-mode install`.\n";
  bool has_roots = false;
  for (const auto& [key, value] : settings) {
    c << key << " = " << Quote(value) << "\n";
    has_roots = has_roots || key == "roots-filepath";
  }
  if (!has_roots) c << "roots-filepath = " << Quote(layout.state_dir) << "\n";
  return c.str();
}

Status InstallAuditService(const std::string& root, const std::string& immuclient_bin,
                           const std::vector<AuditSetting>& settings, std::string* report) {
  IMMUDB_RETURN_IF_ERROR(systemd::CheckCanWriteRoot(root, ::geteuid()));
  IMMUDB_RETURN_IF_ERROR(systemd::CheckExecutable(immuclient_bin, "immuclient binary"));
  const AuditServiceLayout l(root);
  if (fs::exists(l.unit)) {
    return Status::AlreadyExists("immuclient audit service is already installed (" + l.unit +
                                 "); uninstall it first");
  }
  if (fs::exists(l.config)) {
    return Status::AlreadyExists("config " + l.config +
                                 " already exists; remove it or uninstall the service first");
  }
  std::string state_dir = l.state_dir;
  for (const auto& [key, value] : settings) {
    if (key == "roots-filepath") state_dir = value;
  }
  constexpr auto k600 = fs::perms::owner_read | fs::perms::owner_write;
  constexpr auto k644 = k600 | fs::perms::group_read | fs::perms::others_read;
  IMMUDB_RETURN_IF_ERROR(systemd::MakeDir(state_dir, fs::perms::owner_all));
  *report += "state directory " + state_dir + "\n";
  IMMUDB_RETURN_IF_ERROR(systemd::WriteFile(l.config, AuditServiceConfig(l, settings), k600));
  *report += "config " + l.config + "\n";
  IMMUDB_RETURN_IF_ERROR(systemd::WriteFile(l.unit, AuditServiceUnit(l, immuclient_bin), k644));
  *report += "unit " + l.unit + "\n";
  return Status::OK();
}

Status UninstallAuditService(const std::string& root, std::string* report) {
  IMMUDB_RETURN_IF_ERROR(systemd::CheckCanWriteRoot(root, ::geteuid()));
  const AuditServiceLayout l(root);
  if (!fs::exists(l.unit)) {
    return Status::NotFound("immuclient audit service is not installed (no " + l.unit + ")");
  }
  for (const std::string& path : {l.unit, l.config}) {
    std::error_code ec;
    const bool removed = fs::remove(path, ec);
    if (ec) return Status::IOError("cannot remove " + path + ": " + ec.message());
    if (removed) *report += "removed " + path + "\n";
  }
  *report += "kept the trusted states\n";
  return Status::OK();
}

Result<int> AuditServiceSystemctl(const std::string& action) {
  return systemd::Systemctl(action, kAuditServiceName,
                            "run the auditor in the foreground (immuclient audit-mode)");
}

}  // namespace immudb::immuclient
