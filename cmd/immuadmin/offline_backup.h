// immuadmin's offline backup and restore of a whole data directory, as
// immudb's `immuadmin backup [--dbdir D] [--uncompressed]
// [--manual-stop-start]` and `immuadmin restore <snapshot> [--dbdir D]
// [--manual-stop-start]` (docs/immuadmin.md, "Offline backup and restore").
//
// backup:  <dbdir base name>_bkp_<YYYY-MM-DD_HH-MM-SS>.tar.gz in the current
//          directory (or a directory of that name without the extension with
//          --uncompressed); members "<snapshot>/<path in dbdir>", regular
//          files and directories only, without <dbdir>/immudb.identifier.
//          Written under a temporary name, fsynced, then renamed into place
//          without replacing anything.
// restore: the whole snapshot is checked first (tar_gz.h); then it is
//          extracted into a fresh sibling of dbdir, every database store in
//          it is verified offline (store/verify_dir.h), and only then the old
//          dbdir is renamed to <dbdir>_bkp_before_restore_<timestamp> and the
//          new one put in its place. Any failure leaves dbdir as it was.
//
// By default the immudb systemd service is stopped before and started after
// (systemctl, after a confirmation and the sysadmin's password);
// --manual-stop-start only asks the user to confirm the server is stopped.
// Either way a data directory whose store LOCK files a running process holds
// is refused. Commands throw Failure (cli.h).
#pragma once

#include <string>

#include "cmd/immuadmin/cli.h"
#include "immudb/status.h"

namespace immudb::admin {

struct OfflineOptions {
  std::string dbdir = "./data";
  bool uncompressed = false;  // backup only
  bool manual_stop_start = false;
};

void OfflineBackup(const Settings& s, const OfflineOptions& o);
void OfflineRestore(const Settings& s, const std::string& snapshot, const OfflineOptions& o);

// FailedPrecondition naming the file when a process holds a lock on any file
// called LOCK below `dir` (the engine's store lock and the key index's lock,
// both fcntl locks), i.e. a running server uses `dir`.
Status CheckNotInUse(const std::string& dir);

}  // namespace immudb::admin
