// `immuadmin service`: installs immudb as a systemd service under a root
// directory ("/" on a real machine, a scratch directory in tests).
//
//   <root>/etc/systemd/system/immudb.service   the unit
//   <root>/etc/immudb/immudb.toml              default configuration (kept if present)
//   <root>/var/lib/immudb                      data directory
//   <root>/var/log/immudb                      log directory (immudb.log)
//
// start/stop/status run `systemctl`; without it they fail with a clear
// message. Not thread-safe (it changes files).
#pragma once

#include <string>

#include "immudb/result.h"

namespace immudb::admin {

struct ServiceLayout {
  explicit ServiceLayout(const std::string& root);
  std::string unit;
  std::string config;
  std::string data_dir;
  std::string log_dir;
  std::string log_file;
};

// The unit text for `immudb_bin` with `layout`'s paths.
std::string ServiceUnit(const ServiceLayout& layout, const std::string& immudb_bin);
// The default immudb.toml with `layout`'s paths.
std::string DefaultConfig(const ServiceLayout& layout);

// Writes the unit (0644), the config (0644, only when missing) and creates
// the data (0700) and log (0755) directories. AlreadyExists when the unit is
// there already; InvalidArgument when `immudb_bin` is not an executable file.
// `report` receives one line per file or directory made.
Status InstallService(const std::string& root, const std::string& immudb_bin, std::string* report);
// Removes the unit; the config, data and logs are kept. NotFound when the
// service is not installed.
Status UninstallService(const std::string& root, std::string* report);

// Runs `systemctl <action> immudb` and returns its exit code.
// FailedPrecondition when systemctl is not on the PATH.
Result<int> Systemctl(const std::string& action);

}  // namespace immudb::admin
