#include "cmd/immuclient/audit_mode.h"

#include <signal.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>
#include <mutex>

#include "client/auditor.h"
#include "cmd/immuclient/audit_service.h"
#include "server/layered_settings.h"

namespace immudb::immuclient {
namespace {

using client::Auditor;
using client::AuditorOptions;

volatile sig_atomic_t g_stop = 0;

void OnSignal(int) { g_stop = 1; }

struct AuditFlags {
  std::string action;  // "" = run in the foreground
  std::string root = "/";
  std::string username = "immudb";
  std::string password;
  std::string databases;
  bool verify_values = true;
  std::string notification_url;
  std::string notification_username;
  std::string notification_password;
  std::string monitoring_host = "0.0.0.0";
  int monitoring_port = 9477;
  std::string interval;
  uint64_t runs = 0;
  std::string roots_filepath;
};

// The value of a global flag of `app`, or `fallback` when it was not given.
template <class T>
T Global(CLI::App* app, const std::string& name, T fallback) {
  CLI::Option* o = app->get_option_no_throw(name);
  if (o == nullptr || o->count() == 0) return fallback;
  return o->as<T>();
}

// One whole line per call: the auditor's thread and the main thread both
// print, and a reader of the output (a log file) must never see one line
// break into another.
void Print(const std::string& line) {
  char when[32];
  const time_t now = std::time(nullptr);
  struct tm tm_buf;
  std::strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime_r(&now, &tm_buf));
  const std::string text = std::string(when) + " " + line + "\n";
  static std::mutex mu;
  std::lock_guard<std::mutex> l(mu);
  std::cout << text << std::flush;
}

[[noreturn]] void Fail(const std::string& message, int code = 1) {
  std::cerr << "immuclient audit-mode: " << message << "\n";
  throw CLI::RuntimeError(code);
}

// The audit interval: --audit-interval, else $audit-agent-interval, else 1m.
std::string Interval(const AuditFlags& f) {
  if (!f.interval.empty()) return f.interval;
  const char* env = std::getenv("audit-agent-interval");
  return env != nullptr && *env != '\0' ? env : "1m";
}

// The settings a service needs, from the flags, variables and config file
// in effect now: the connection flags and the audit flags that were given
// (a default stays a default), with file paths made absolute since the
// service runs elsewhere.
std::vector<AuditSetting> ServiceSettings(CLI::App* app, const AuditFlags& f) {
  if (app->get_option("--audit-runs")->count() > 0) {
    Fail("--audit-runs does not apply to a service, which runs until stopped");
  }
  auto password = client::DecodePassword(f.password);
  if (!password.ok()) Fail(password.status().message());
  auto ms = client::ParseDuration(Interval(f));
  if (!ms.ok()) Fail("audit interval: " + ms.status().message());

  enum Kind { kText, kPath, kFlag };
  const std::pair<const char*, Kind> keys[] = {
      {"immudb-address", kText},
      {"immudb-port", kText},
      {"server-signing-pub-key", kPath},
      {"mtls", kFlag},
      {"servername", kText},
      {"clientcas", kPath},
      {"certificate", kPath},
      {"pkey", kPath},
      {"audit-username", kText},
      {"audit-password", kText},
      {"audit-databases", kText},
      {"audit-verify-values", kFlag},
      {"audit-notification-url", kText},
      {"audit-notification-username", kText},
      {"audit-notification-password", kText},
      {"audit-monitoring-host", kText},
      {"audit-monitoring-port", kText},
      {"roots-filepath", kPath},
  };
  std::vector<AuditSetting> out;
  for (const auto& [key, kind] : keys) {
    CLI::Option* o = app->get_option_no_throw(std::string("--") + key);
    if (o == nullptr || o->count() == 0) continue;
    std::string value;
    if (kind == kFlag) {
      value = o->as<bool>() ? "true" : "false";
    } else {
      value = o->as<std::string>();
      if (kind == kPath && !value.empty()) value = std::filesystem::absolute(value).string();
    }
    out.emplace_back(key, value);
  }
  if (!f.interval.empty() || std::getenv("audit-agent-interval") != nullptr) {
    out.emplace_back("audit-interval", Interval(f));
  }
  return out;
}

// install, uninstall, start, stop, restart or status.
[[noreturn]] void Manage(CLI::App* app, CLI::App* cmd, const AuditFlags& f) {
  const bool files = f.action == "install" || f.action == "uninstall";
  if (!files && cmd->get_option("--root")->count() > 0) {
    Fail("--root applies to install and uninstall only");
  }
  std::string report;
  if (f.action == "install") {
    std::error_code ec;
    const std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
    if (ec) Fail("cannot find the path of this immuclient: " + ec.message());
    Status st = InstallAuditService(f.root, self, ServiceSettings(app, f), &report);
    if (!st.ok()) Fail(st.message());
    std::cout << report << "immuclient audit service installed; start it with "
              << "`immuclient audit-mode start`\n";
    throw CLI::Success();
  }
  if (f.action == "uninstall") {
    Status st = UninstallAuditService(f.root, &report);
    if (!st.ok()) Fail(st.message());
    std::cout << report << "immuclient audit service uninstalled\n";
    throw CLI::Success();
  }
  auto code = AuditServiceSystemctl(f.action);
  if (!code.ok()) Fail(code.status().message());
  if (*code == 0) throw CLI::Success();
  throw CLI::RuntimeError(*code);
}

void Run(CLI::App* app, CLI::App* cmd, const AuditFlags& f) {
  if (!f.action.empty()) Manage(app, cmd, f);
  if (cmd->get_option("--root")->count() > 0) {
    Fail("--root applies to install and uninstall only");
  }
  AuditorOptions o;
  o.client.address = Global<std::string>(app, "--immudb-address", "127.0.0.1");
  o.client.port = Global<int>(app, "--immudb-port", 3322);
  o.client.server_signing_pub_key = Global<std::string>(app, "--server-signing-pub-key", "");
  // The same TLS settings as every other immuclient command.
  if (Global<bool>(app, "--mtls", false)) {
    o.client.tls.enabled = true;
    o.client.tls.server_name = Global<std::string>(app, "--servername", "localhost");
    o.client.tls.ca_cert = Global<std::string>(app, "--clientcas", "");
    o.client.tls.client_cert = Global<std::string>(app, "--certificate", "");
    o.client.tls.client_key = Global<std::string>(app, "--pkey", "");
  }
  o.username = f.username;
  auto password = client::DecodePassword(f.password);
  if (!password.ok()) Fail(password.status().message());
  o.password = *password;
  o.databases = server::SplitList(f.databases);
  o.verify_values = f.verify_values;
  o.notification_url = f.notification_url;
  o.notification_username = f.notification_username;
  o.notification_password = f.notification_password;
  o.monitoring_address = f.monitoring_host;
  o.monitoring_port = f.monitoring_port;
  // immudb's audit agent reads its interval from $audit-agent-interval.
  auto ms = client::ParseDuration(Interval(f));
  if (!ms.ok()) Fail("audit interval: " + ms.status().message());
  o.interval = *ms;
  if (!f.roots_filepath.empty()) {
    o.state_dir = f.roots_filepath;
  } else {
    std::string base = Global<std::string>(app, "--dir", "");
    if (base.empty()) {
      const char* tmp = std::getenv("TMPDIR");
      base = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
    }
    o.state_dir = base + "/auditor";
  }
  o.log = Print;

  auto auditor = Auditor::Create(std::move(o));
  if (!auditor.ok()) Fail(auditor.status().message());
  signal(SIGINT, OnSignal);
  signal(SIGTERM, OnSignal);
  Status st = (*auditor)->Start(f.runs);
  if (!st.ok()) Fail(st.message());
  if ((*auditor)->monitoring_port() > 0) {
    Print("audit monitoring server listening on " + f.monitoring_host + ":" +
          std::to_string((*auditor)->monitoring_port()));
  }
  Print("auditor state file: " + (*auditor)->state_path());
  while (!(*auditor)->WaitFor(std::chrono::milliseconds(200))) {
    if (g_stop) break;
  }
  (*auditor)->Stop();
  Print("auditor stopped");
  if (f.runs > 0 && (*auditor)->tampering_count() > 0) throw CLI::RuntimeError(2);
  if (f.runs > 0 && (*auditor)->error_count() > 0) throw CLI::RuntimeError(1);
  throw CLI::Success();
}

}  // namespace

void RegisterAuditMode(CLI::App* app) {
  auto f = std::make_shared<AuditFlags>();
  CLI::App* cmd = app->add_subcommand(
      "audit-mode", "watch the server for tampering (consistency, signatures, values)");
  cmd->add_option("action", f->action,
                  "none: run in the foreground; install, uninstall, start, stop, restart or "
                  "status: the systemd service \"immuclient\"")
      ->check(CLI::IsMember({"install", "uninstall", "start", "stop", "restart", "status"}));
  cmd->add_option("--root", f->root,
                  "root directory of the service's files (install and uninstall; default /)");
  // Global flags, as immudb's: accepted anywhere on the line, from IMMUCLIENT_*
  // variables and as keys of immuclient.toml (ApplyConfigFile needs the
  // variable's name).
  auto global = [app](const char* name, auto& value, const char* help, const char* env) {
    app->add_option(name, value, help)->envname(env)->group("Audit mode (audit-mode)");
  };
  global("--audit-username", f->username, "user the auditor logs in as",
         "IMMUCLIENT_AUDIT_USERNAME");
  global("--audit-password", f->password, "its password (plain or enc:<base64>)",
         "IMMUCLIENT_AUDIT_PASSWORD");
  global("--audit-databases", f->databases,
         "comma-separated name prefixes of the databases to audit (default all)",
         "IMMUCLIENT_AUDIT_DATABASES");
  global("--audit-verify-values", f->verify_values,
         "re-read new transactions and re-hash their values (default true)",
         "IMMUCLIENT_AUDIT_VERIFY_VALUES");
  global("--audit-notification-url", f->notification_url,
         "URL POSTed a JSON notification when tampering is found",
         "IMMUCLIENT_AUDIT_NOTIFICATION_URL");
  global("--audit-notification-username", f->notification_username,
         "username sent in the notification", "IMMUCLIENT_AUDIT_NOTIFICATION_USERNAME");
  global("--audit-notification-password", f->notification_password,
         "password sent in the notification", "IMMUCLIENT_AUDIT_NOTIFICATION_PASSWORD");
  global("--audit-monitoring-host", f->monitoring_host,
         "address of the metrics server (default 0.0.0.0)", "IMMUCLIENT_AUDIT_MONITORING_HOST");
  global("--audit-monitoring-port", f->monitoring_port,
         "port of the metrics server (default 9477; 0 = any, -1 = off)",
         "IMMUCLIENT_AUDIT_MONITORING_PORT");
  global("--audit-interval", f->interval,
         "time between runs, e.g. 30s, 5m (default 1m, or $audit-agent-interval)",
         "IMMUCLIENT_AUDIT_INTERVAL");
  global("--audit-runs", f->runs, "stop after this many runs (default 0 = never)",
         "IMMUCLIENT_AUDIT_RUNS");
  global("--roots-filepath", f->roots_filepath,
         "directory of the auditor's trusted states (default <--dir or $TMPDIR>/auditor)",
         "IMMUCLIENT_ROOTS_FILEPATH");
  cmd->callback([app, cmd, f] { Run(app, cmd, *f); });
}

}  // namespace immudb::immuclient
