// `immuclient audit-mode install|uninstall|start|stop|restart|status`: the
// auditor as a systemd service, under a root directory ("/" on a real
// machine, a scratch directory in tests).
//
//   <root>/etc/systemd/system/immuclient.service   the unit
//   <root>/etc/immuclient/immuclient.toml          the audit settings given at
//                                                  install time (0600: it
//                                                  holds the audit password)
//   <root>/var/lib/immuclient/auditor              trusted states (0700),
//                                                  unless roots-filepath is set
//
// The unit runs `<immuclient> --config <toml> audit-mode`. start, stop,
// restart and status run `systemctl <action> immuclient`.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "immudb/result.h"

namespace immudb::immuclient {

// The unit's name, as immudb's.
inline constexpr char kAuditServiceName[] = "immuclient";

struct AuditServiceLayout {
  explicit AuditServiceLayout(const std::string& root);
  std::string unit;
  std::string config;
  std::string state_dir;
};

// A setting of immuclient.toml: flag name without "--", value as text.
using AuditSetting = std::pair<std::string, std::string>;

// The unit text for `immuclient_bin`.
std::string AuditServiceUnit(const AuditServiceLayout& layout, const std::string& immuclient_bin);
// immuclient.toml with `settings`, plus roots-filepath = the layout's state
// directory when `settings` has none.
std::string AuditServiceConfig(const AuditServiceLayout& layout,
                               const std::vector<AuditSetting>& settings);

// Writes the config and the unit and creates the state directory.
// PermissionDenied for the real "/" unless run as root; InvalidArgument when
// `immuclient_bin` is not an executable file; AlreadyExists when the unit or
// the config is there already. Nothing is written on any of these errors.
// `report` receives one line per file or directory made.
Status InstallAuditService(const std::string& root, const std::string& immuclient_bin,
                           const std::vector<AuditSetting>& settings, std::string* report);
// Removes the unit and the config; the trusted states are kept. NotFound when
// the unit is not installed.
Status UninstallAuditService(const std::string& root, std::string* report);

// `systemctl <action> immuclient`'s exit code; FailedPrecondition without
// systemctl.
Result<int> AuditServiceSystemctl(const std::string& action);

}  // namespace immudb::immuclient
