// What `immuadmin service` and `immuclient audit-mode install|...` share to
// run a program as a systemd service: files placed under a root directory
// ("/" on a real machine, a scratch directory in tests) and `systemctl`
// calls. Not thread-safe (it changes files).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>

#include "immudb/result.h"

namespace immudb::systemd {

// `path` (absolute, e.g. "/etc/immudb") under `root`.
std::string UnderRoot(const std::string& root, const std::string& path);

// Writes `text` to `path` with `mode`, creating the parent directories.
Status WriteFile(const std::string& path, const std::string& text, std::filesystem::perms mode);
// Creates `path` (and its parents) and gives it `mode`.
Status MakeDir(const std::string& path, std::filesystem::perms mode);

// InvalidArgument unless `bin` is an absolute path to an executable file;
// `what` names it in the message ("immudb binary").
Status CheckExecutable(const std::string& bin, const std::string& what);

// PermissionDenied when `root` is the real "/" and `euid` is not 0: only
// the superuser can write to /etc/systemd/system.
Status CheckCanWriteRoot(const std::string& root, uid_t euid);

// The full path of `prog` on $PATH, "" when absent.
std::string FindOnPath(const std::string& prog);

// Runs `systemctl <action> <unit>` and returns its exit code.
// FailedPrecondition when systemctl is not on the PATH; `no_systemd_hint`
// ends that message (how to run the program without systemd).
Result<int> Systemctl(const std::string& action, const std::string& unit,
                      const std::string& no_systemd_hint);

}  // namespace immudb::systemd
