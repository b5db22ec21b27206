// `immuclient audit-mode`: runs the auditor (client/auditor.h) in the
// foreground until SIGINT/SIGTERM or, with --audit-runs N, for N runs
// (wire-api.md §11.3). `audit-mode install|uninstall|start|stop|restart|status`
// manages it as a systemd service instead (audit_service.h). Results go to stdout, metrics to
// http://<--audit-monitoring-host>:<--audit-monitoring-port>/metrics.
#pragma once

namespace CLI {
class App;
}

namespace immudb::immuclient {

// Adds the audit-mode subcommand to `app`, and its --audit-* and
// --roots-filepath flags to `app` itself: they are global flags, as in
// immudb, with IMMUCLIENT_* variables (so immuclient.toml may set them). The
// subcommand also reads the app's global flags -a/--immudb-address,
// -p/--immudb-port, --server-signing-pub-key, --dir and the TLS flags by
// name. It ends the program when it runs, by throwing CLI::Success (exit
// code 0) or CLI::RuntimeError (1 on errors, 2 when tampering was found),
// which main's app.exit turns into the exit code.
void RegisterAuditMode(CLI::App* app);

}  // namespace immudb::immuclient
