// immuadmin: the immudb administration CLI (wire-api.md §11.2).
//
// login/logout, status, stats, user ..., database ..., dump, backup, restore
// (one database online, or a data directory offline), hot-backup/hot-restore, verify <dir> (offline
// store check), service ... (systemd unit) and set auth|mtls. Flags may also come from IMMUADMIN_*
// environment variables or --config. Passwords are asked on a terminal
// (without echo) and otherwise read from stdin, one per line; the login
// password may also be given with --password. See docs/immuadmin.md.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>

#include "client/admin.h"
#include "client/auditor.h"
#include "cmd/immuadmin/cli.h"
#include "cmd/immuadmin/hot_backup.h"
#include "cmd/immuadmin/offline_backup.h"
#include "cmd/immuadmin/service.h"
#include "grpc_runtime.h"
#include "immudb/duration_text.h"
#include "immudb/hash.h"
#include "server/toml_settings.h"
#include "store/verify_dir.h"

namespace {

using namespace immudb::admin;  // NOLINT(google-build-using-namespace)
namespace client = immudb::client;

constexpr char kDefaultPasswordWarning[] =
    "SECURITY WARNING: immudb user has the default password: please change it to ensure proper "
    "security (immuadmin user changepassword immudb)";

// Settings flags of `database create/update`: the settings this server
// applies (server/db_service.cc); only the ones given are sent. Switches
// (--autoload, --exclude-commit-time, --replication-is-replica) are true
// alone and take `=false`.
struct DbFlags {
  std::optional<uint32_t> max_key_len, max_value_len, max_tx_entries, file_size, header_version;
  bool exclude_commit_time = false, autoload = true, replica = false;
  CLI::Option *exclude_opt = nullptr, *autoload_opt = nullptr, *replica_opt = nullptr;
  std::optional<std::string> primary_host, primary_database, primary_username, primary_password;
  std::optional<uint32_t> primary_port;
  // Durations as immudb's (24h, 90m, 1h30m); parsed by Proto.
  std::optional<std::string> retention_period, truncation_frequency;

  void Add(CLI::App* cmd) {
    cmd->add_option("--max-key-len", max_key_len, "largest key in bytes");
    cmd->add_option("--max-value-len", max_value_len, "largest value in bytes");
    cmd->add_option("--max-tx-entries", max_tx_entries, "most entries per transaction");
    cmd->add_option("--file-size", file_size, "segment size of the data files (create only)");
    cmd->add_option("--write-tx-header-version", header_version,
                    "tx header version (this server writes version 1 only)");
    exclude_opt = cmd->add_flag("--exclude-commit-time", exclude_commit_time,
                                "write 0 as the commit time of transactions");
    autoload_opt = cmd->add_flag("--autoload", autoload, "load the database at startup");
    replica_opt = cmd->add_flag("--replication-is-replica,--replication-enabled", replica,
                                "the database is a replica (takes replicateTx, refuses writes)");
    cmd->add_option("--replication-primary-host,--replication-master-address", primary_host,
                    "primary server host (a replica follows it)");
    cmd->add_option("--replication-primary-port,--replication-master-port", primary_port,
                    "primary server port (3322)");
    cmd->add_option("--replication-primary-database,--replication-master-database",
                    primary_database, "database on the primary (defaultdb)");
    cmd->add_option("--replication-primary-username,--replication-follower-username",
                    primary_username, "user on the primary");
    cmd->add_option("--replication-primary-password,--replication-follower-password",
                    primary_password, "password of that user");
    cmd->add_option("--retention-period", retention_period,
                    "discard values older than this, periodically (e.g. 24h, 720h; at least "
                    "24h; 0: never)");
    cmd->add_option("--truncation-frequency", truncation_frequency,
                    "time between two truncations (e.g. 1h, 90m; at least 1h; server default "
                    "24h)");
  }
  immudb::schema::DatabaseNullableSettings Proto() const {
    immudb::schema::DatabaseNullableSettings s;
    if (max_key_len) s.mutable_maxkeylen()->set_value(*max_key_len);
    if (max_value_len) s.mutable_maxvaluelen()->set_value(*max_value_len);
    if (max_tx_entries) s.mutable_maxtxentries()->set_value(*max_tx_entries);
    if (file_size) s.mutable_filesize()->set_value(*file_size);
    if (header_version) s.mutable_writetxheaderversion()->set_value(*header_version);
    if (exclude_opt->count() > 0) s.mutable_excludecommittime()->set_value(exclude_commit_time);
    if (autoload_opt->count() > 0) s.mutable_autoload()->set_value(autoload);
    auto* rs = s.mutable_replicationsettings();
    if (replica_opt->count() > 0) rs->mutable_replica()->set_value(replica);
    if (primary_host) rs->mutable_primaryhost()->set_value(*primary_host);
    if (primary_port) rs->mutable_primaryport()->set_value(*primary_port);
    if (primary_database) rs->mutable_primarydatabase()->set_value(*primary_database);
    if (primary_username) rs->mutable_primaryusername()->set_value(*primary_username);
    if (primary_password) rs->mutable_primarypassword()->set_value(*primary_password);
    if (rs->ByteSizeLong() == 0) s.clear_replicationsettings();
    auto duration = [](const std::string& flag, const std::string& text) {
      auto ms = client::ParseDuration(text);
      if (!ms.ok()) throw Failure("--" + flag + ": " + ms.status().message());
      return static_cast<int64_t>(ms->count());
    };
    if (retention_period) {
      s.mutable_truncationsettings()->mutable_retentionperiod()->set_value(
          duration("retention-period", *retention_period));
    }
    if (truncation_frequency) {
      s.mutable_truncationsettings()->mutable_truncationfrequency()->set_value(
          duration("truncation-frequency", *truncation_frequency));
    }
    return s;
  }
};

std::string SettingsText(const immudb::schema::DatabaseNullableSettings& s) {
  auto b = [](bool v) { return v ? "true" : "false"; };
  const auto& rs = s.replicationsettings();
  std::string extra;
  if (rs.has_primaryhost()) {
    extra = ", primary: " + rs.primaryusername().value() + "@" + rs.primaryhost().value() + ":" +
            std::to_string(rs.primaryport().value()) + "/" + rs.primarydatabase().value();
  }
  const auto& ts = s.truncationsettings();
  if (ts.retentionperiod().value() > 0) {
    extra += ", retentionPeriod: " + immudb::DurationText(ts.retentionperiod().value()) +
             ", truncationFrequency: " + immudb::DurationText(ts.truncationfrequency().value());
  }
  return "{maxKeyLen: " + std::to_string(s.maxkeylen().value()) +
         ", maxValueLen: " + std::to_string(s.maxvaluelen().value()) +
         ", maxTxEntries: " + std::to_string(s.maxtxentries().value()) +
         ", fileSize: " + std::to_string(s.filesize().value()) +
         ", excludeCommitTime: " + b(s.excludecommittime().value()) +
         ", autoload: " + b(s.autoload().value()) +
         ", writeTxHeaderVersion: " + std::to_string(s.writetxheaderversion().value()) +
         ", replica: " + b(rs.replica().value()) + extra + "}";
}

std::string Pad(const std::string& s, size_t w) {
  return s.size() >= w ? s + " " : s + std::string(w - s.size(), ' ');
}

// A table as immudb's CLIs print one: the caption, a border, the header
// (with a "#" row-number column), a border, the numbered rows, a border;
// every cell padded to its column's widest cell plus two spaces.
void PrintTable(const std::vector<std::string>& cols,
                const std::vector<std::vector<std::string>>& rows, const std::string& caption) {
  if (rows.empty() || cols.empty()) return;
  std::vector<std::vector<std::string>> lines;
  std::vector<std::string> header = {std::string(std::to_string(rows.size()).size(), '#')};
  header.insert(header.end(), cols.begin(), cols.end());
  std::vector<std::string> border;
  for (const auto& h : header) border.emplace_back(h.size(), '-');
  lines.push_back(border);
  lines.push_back(header);
  lines.push_back(border);
  for (size_t i = 0; i < rows.size(); i++) {
    std::vector<std::string> line = {std::to_string(i + 1)};
    for (size_t j = 0; j < cols.size(); j++) line.push_back(j < rows[i].size() ? rows[i][j] : "");
    lines.push_back(std::move(line));
  }
  lines.push_back(border);
  std::vector<size_t> width(header.size(), 0);
  for (const auto& line : lines) {
    for (size_t j = 0; j < line.size(); j++) width[j] = std::max(width[j], line[j].size());
  }
  std::cout << caption << "\n";
  for (const auto& line : lines) {
    for (size_t j = 0; j < line.size(); j++) {
      std::cout << line[j] << std::string(width[j] + 2 - line[j].size(), ' ');
    }
    std::cout << "\n";
  }
}

// immudb's names of the permission levels in `user list`.
std::string PermissionTitle(uint32_t level) {
  switch (level) {
    case client::kPermRead:
      return "Read";
    case client::kPermReadWrite:
      return "Read/Write";
    case client::kPermAdmin:
      return "Admin";
    case client::kPermSysAdmin:
      return "System Admin";
    default:
      return "unknown: " + std::to_string(level);
  }
}

// One row per user and permission; the user's own columns on its first row.
void PrintUsers(const std::vector<client::UserInfo>& users) {
  std::vector<std::vector<std::string>> rows;
  std::vector<size_t> width(6, 0);
  for (const auto& u : users) {
    std::vector<std::string> row = {u.name,      u.active ? "true" : "false", "", "", u.created_by,
                                    u.created_at};
    if (!u.permissions.empty()) {
      row[2] = u.permissions[0].first;
      row[3] = PermissionTitle(u.permissions[0].second);
    }
    rows.push_back(std::move(row));
    for (size_t i = 1; i < u.permissions.size(); i++) {
      rows.push_back({"", "", u.permissions[i].first, PermissionTitle(u.permissions[i].second)});
    }
  }
  for (const auto& row : rows) {
    for (size_t j = 0; j < row.size(); j++) width[j] = std::max(width[j], row[j].size());
  }
  std::vector<std::string> cols = {"User",       "Active",     "Database",
                                   "Permission", "Created By", "Created At"};
  for (size_t j = 0; j < cols.size(); j++) {
    if (cols[j].size() < width[j]) cols[j] += std::string(width[j] - cols[j].size(), ' ');
  }
  PrintTable(cols, rows, std::to_string(users.size()) + " user(s)");
}

void PrintDatabases(const std::vector<client::DatabaseInfo>& dbs, const std::string& current) {
  std::cout << Pad("DATABASE NAME", 20) << Pad("CREATED AT", 22) << Pad("CREATED BY", 12)
            << Pad("STATUS", 10) << Pad("IS REPLICA", 11) << Pad("DISK SIZE", 12)
            << "TRANSACTIONS\n";
  for (const auto& d : dbs) {
    std::string created = "-";
    if (d.created_at > 0) {
      char buf[32];
      const time_t t = static_cast<time_t>(d.created_at);
      struct tm tm_buf;
      std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", gmtime_r(&t, &tm_buf));
      created = buf;
    }
    const std::string name = (d.name == current ? "*" : "") + d.name;
    std::cout << Pad(name, 20) << Pad(created, 22)
              << Pad(d.created_by.empty() ? "-" : d.created_by, 12)
              << Pad(d.loaded ? "LOADED" : "UNLOADED", 10)
              << Pad(d.settings.replicationsettings().replica().value() ? "true" : "false", 11)
              << Pad(HumanBytes(d.disk_size), 12) << d.num_transactions << "\n";
  }
}

// read, readwrite or admin. This server has one system admin (immudb): it
// neither creates another nor grants sysadmin, so `sysadmin` is refused here
// with that reason.
uint32_t Permission(const std::string& name) {
  const uint32_t level = client::PermissionFromName(name);
  if (level == client::kPermSysAdmin) {
    throw Failure(
        "permission sysadmin can not be given: this server has a single system admin "
        "(immudb)");
  }
  if (level == 0) throw Failure("unknown permission '" + name + "': use read, readwrite or admin");
  return level;
}

// The `immudb` binary next to this program.
std::string DefaultImmudbBin() {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? "" : (self.parent_path() / "immudb").string();
}

// Fills the global options that neither a flag nor an IMMUADMIN_* variable
// set from the settings file `path`. Failure for an unreadable file or an
// unknown or invalid setting.
void ApplyConfigFile(CLI::App& app, const std::string& path) {
  const auto settings = Must(immudb::server::ReadTomlSettings(path));
  for (const auto& [key, value] : settings) {
    CLI::Option* opt = app.get_option_no_throw("--" + key);
    if (opt == nullptr || key == "config" || key == "help") {
      throw Failure("config file " + path + ": unknown setting '" + key + "'");
    }
    if (opt->count() > 0) continue;  // A flag or a variable set it.
    try {
      opt->add_result(value);
      opt->run_callback();
    } catch (const CLI::Error& e) {
      throw Failure("config file " + path + ": " + key + ": " + e.what());
    }
  }
}

int Verify(const std::string& dir) { return immudb::store::RunVerifyCommand(dir, "immuadmin"); }

}  // namespace

int main(int argc, char** argv) {
  immudb::rpc::TuneGrpcRuntime();
  CLI::App app{"immuadmin: the immudb administration CLI"};
  app.require_subcommand(1);
  Settings s;
  auto env = [](CLI::Option* o, const char* name) { o->envname(name); };
  env(app.add_option("-a,--immudb-address", s.address, "server address"),
      "IMMUADMIN_IMMUDB_ADDRESS");
  env(app.add_option("-p,--immudb-port", s.port, "server port"), "IMMUADMIN_IMMUDB_PORT");
  env(app.add_option("--tokenfile", s.tokenfile, "token file (a plain name is under $HOME)"),
      "IMMUADMIN_TOKENFILE");
  env(app.add_option("--password", s.password, "password for login (default: read from stdin)"),
      "IMMUADMIN_PASSWORD");
  immudb::cli::AddTlsFlags(app, s.tls, "IMMUADMIN");
  std::string config;
  env(app.add_option("--config", config,
                     "settings file (immuadmin.toml): `name = value` with the long option "
                     "names above; flags and IMMUADMIN_* variables take precedence"),
      "IMMUADMIN_CONFIG");

  std::string arg1, arg2, arg3, arg4, file, root = "/", immudb_bin = DefaultImmudbBin();
  bool raw = false, text = false, if_not_exists = false;
  auto* login = app.add_subcommand("login", "log in as the sysadmin (immudb)")->alias("l");
  login->add_option("username", arg1)->required();
  auto* logout = app.add_subcommand("logout", "log out")->alias("x");
  auto* status = app.add_subcommand("status", "server status")->alias("p");
  auto* stats = app.add_subcommand("stats", "server metrics")->alias("s");
  bool dashboard = false;
  int64_t refreshes = 0;
  std::string interval = "1s";
  stats->add_flag("-t,--text", text, "text summary (the default when stdout is not a terminal)");
  stats->add_flag("-r,--raw", raw, "the metrics as the server sends them");
  stats->add_flag("--dashboard", dashboard,
                  "live view, refreshed (the default on a terminal; q or Ctrl-C quits)");
  stats->add_option("--refresh-count", refreshes, "live view: stop after this many refreshes");
  stats->add_option("--interval", interval, "live view: time between refreshes (e.g. 500ms, 2s)");
  env(stats->add_option("--metrics-port", s.metrics_port, "metrics server port"),
      "IMMUADMIN_METRICS_PORT");

  auto* user = app.add_subcommand("user", "user management")->alias("u");
  user->require_subcommand(1);
  auto* user_list = user->add_subcommand("list", "list users");
  auto* user_create = user->add_subcommand("create", "create a user: <user> <permission> [db]");
  user_create->add_option("username", arg1)->required();
  user_create->add_option("permission", arg2, "read, readwrite or admin")->required();
  user_create->add_option("database", arg3);
  auto* user_pw = user->add_subcommand("changepassword", "change a user's password");
  user_pw->add_option("username", arg1)->required();
  auto* user_on = user->add_subcommand("activate", "activate a user");
  auto* user_off = user->add_subcommand("deactivate", "deactivate a user");
  for (auto* c : {user_on, user_off}) c->add_option("username", arg1)->required();
  auto* user_perm = user->add_subcommand("permission", "grant|revoke <user> <permission> <db>");
  user_perm->add_option("action", arg1, "grant or revoke")->required();
  user_perm->add_option("username", arg2)->required();
  user_perm->add_option("permission", arg3)->required();
  user_perm->add_option("database", arg4)->required();

  auto* database = app.add_subcommand("database", "database management")->alias("d");
  database->require_subcommand(1);
  auto* db_list = database->add_subcommand("list", "list databases")->alias("l");
  DbFlags create_flags, update_flags;
  auto* db_create = database->add_subcommand("create", "create a database");
  db_create->add_option("database", arg1)->required();
  db_create->add_flag("--if-not-exists", if_not_exists, "no error when it exists");
  create_flags.Add(db_create);
  auto* db_update = database->add_subcommand("update", "change a database's settings");
  db_update->add_option("database", arg1)->required();
  update_flags.Add(db_update);
  auto* db_use = database->add_subcommand("use", "select a database");
  auto* db_load = database->add_subcommand("load", "load (open) a database");
  auto* db_unload = database->add_subcommand("unload", "unload (close) a database");
  auto* db_delete = database->add_subcommand("delete", "delete an unloaded database and its files");
  bool i_know = false;
  db_delete->add_flag("--yes-i-know-what-i-am-doing", i_know,
                      "confirm that the database's data is to be removed for good");
  for (auto* c : {db_use, db_load, db_unload, db_delete}) {
    c->add_option("database", arg1)->required();
  }
  auto* db_flush = database->add_subcommand("flush", "write the selected database's index to disk");
  float cleanup_percentage = 0;
  bool synced = true;
  db_flush
      ->add_option("--cleanup-percentage", cleanup_percentage,
                   "share of index files to clean up, 0-100 (checked, no effect on this server)")
      ->capture_default_str();
  db_flush->add_flag("--synced", synced, "sync the flushed files (always so on this server)")
      ->capture_default_str();
  auto* db_compact = database->add_subcommand("compact", "flush and compact its index");
  auto* db_truncate = database->add_subcommand(
      "truncate", "discard the values of old transactions (unrecoverable; proofs stay)");
  db_truncate->add_option("database", arg1)->required();
  std::string retention = "0s";
  db_truncate
      ->add_option("--retention-period", retention,
                   "how long values are kept, e.g. 24h, 720h (at least 24h, or 0)")
      ->capture_default_str();
  bool truncate_i_know = false;
  CLI::Option* truncate_i_know_opt =
      db_truncate->add_flag("--yes-i-know-what-i-am-doing", truncate_i_know,
                            "confirm that old values are to be discarded for good");

  auto* dump = app.add_subcommand("dump", "print every transaction of a database");
  dump->add_option("file", file, "output file (created; default: stdout)");
  dump->add_option("--db", s.database, "database (default: the selected one)");
  // backup/restore: with --db and --file the online, verified record stream
  // of one database; without them immudb's offline snapshot of a data
  // directory (--dbdir, --uncompressed, --manual-stop-start; restore takes
  // the snapshot as its argument). The two sets of flags do not mix.
  OfflineOptions offline;
  std::string snapshot;
  auto* backup = app.add_subcommand(
      "backup",
      "--db X --file F: write every transaction of a database to a file; without them: "
      "snapshot a stopped server's data directory (.tar.gz or a copy)");
  auto* backup_db = backup->add_option("--db", s.database, "online: database");
  auto* backup_file = backup->add_option("--file", file, "online: backup file (must not exist)");
  auto* backup_dbdir =
      backup->add_option("--dbdir", offline.dbdir,
                         "offline: the server's data directory to snapshot (default ./data)");
  auto* backup_plain = backup->add_flag("-u,--uncompressed", offline.uncompressed,
                                        "offline: copy the directory instead of a .tar.gz");
  auto* backup_manual =
      backup->add_flag("--manual-stop-start", offline.manual_stop_start,
                       "offline: the user stops and starts the server (else systemctl does)");
  auto* restore = app.add_subcommand(
      "restore",
      "--file F --db Y: verify a backup file and restore it into a database; <snapshot>: "
      "replace a stopped server's data directory with an offline snapshot");
  auto* restore_snapshot = restore->add_option(
      "snapshot", snapshot, "offline: a .tar.gz or directory made by `backup` without --db");
  auto* restore_file = restore->add_option("--file", file, "online: backup file");
  auto* restore_db = restore->add_option("--db", s.database, "online: new (or empty) database");
  auto* restore_dbdir = restore->add_option(
      "--dbdir", offline.dbdir, "offline: the data directory to replace (default ./data)");
  auto* restore_manual =
      restore->add_flag("--manual-stop-start", offline.manual_stop_start,
                        "offline: the user stops and starts the server (else systemctl does)");
  HotBackupOptions hb;
  auto* hot_backup = app.add_subcommand(
      "hot-backup", "copy a database's transactions to a file or stdout without stopping it");
  hot_backup->add_option("database", arg1)->required();
  hot_backup->add_option("-o,--output", hb.output, "output file, \"-\" for stdout")
      ->capture_default_str();
  hot_backup->add_option("--start-tx", hb.start_tx, "transaction ID to start from")
      ->capture_default_str();
  hot_backup->add_flag("--append", hb.append, "append to the file, if it already exists");
  hot_backup->add_flag("--progress-bar", hb.progress, "show progress indicator");
  HotRestoreOptions hr;
  auto* hot_restore = app.add_subcommand(
      "hot-restore", "restore transactions from a hot backup, checking every one");
  hot_restore->add_option("database", arg1);
  hot_restore->add_option("-i,--input", hr.input, "input file, \"-\" for stdin")
      ->capture_default_str();
  hot_restore->add_flag("--verify-only", hr.verify_only, "do not restore data, only verify backup");
  hot_restore->add_flag("--append", hr.append, "append to the database, if it is not empty");
  hot_restore->add_flag("--force", hr.force,
                        "append when the file starts right after the database's last tx");
  hot_restore->add_flag("--force-replica", hr.force_replica,
                        "switch an existing database to replica mode for the restore");
  hot_restore->add_flag("--progress-bar", hr.progress, "show progress indicator");
  auto* verify = app.add_subcommand("verify", "offline integrity check of a store directory");
  verify->add_option("dir", arg1, "store directory, e.g. <data dir>/defaultdb")->required();

  auto* service = app.add_subcommand("service", "immudb as a systemd service");
  service->add_option("action", arg1, "install, uninstall, start, stop or status")
      ->required()
      ->check(CLI::IsMember({"install", "uninstall", "start", "stop", "status"}));
  auto* root_opt = service->add_option(
      "--root", root, "root directory of the installation (install and uninstall only)");
  service->add_option("--immudb-bin", immudb_bin, "immudb binary for the unit");

  auto* set = app.add_subcommand("set", "server settings auth|mtls (not supported by the server)");
  set->add_option("item", arg1, "auth or mtls")->required();
  set->add_option("value", arg2, "auth: none or password; mtls: true or false")->required();

  CLI11_PARSE(app, argc, argv);
  if (!config.empty()) {
    try {
      ApplyConfigFile(app, config);
    } catch (const Failure& e) {
      std::cerr << "immuadmin: " << e.what() << "\n";
      return 1;
    }
  }

  try {
    if (verify->parsed()) return Verify(arg1);
    if (service->parsed()) {
      std::string report;
      if (arg1 == "install") {
        Must(InstallService(root, immudb_bin, &report));
        std::cout << report << "immudb service installed\n";
      } else if (arg1 == "uninstall") {
        Must(UninstallService(root, &report));
        std::cout << report << "immudb service uninstalled\n";
      } else {
        // systemctl acts on the running system; a root directory has no
        // meaning for start/stop/status.
        if (root_opt->count() > 0) {
          throw Failure("--root applies to service install and uninstall only");
        }
        return Must(Systemctl(arg1));
      }
      return 0;
    }
    if (stats->parsed()) {
      if (raw || text || (!dashboard && ::isatty(STDOUT_FILENO) == 0)) {
        Stats(s, raw);
      } else {
        auto ms = client::ParseDuration(interval);
        if (!ms.ok() || refreshes < 0) throw Failure("invalid --interval or --refresh-count");
        StatsDashboard(s, refreshes, ms->count());
      }
      return 0;
    }
    if (status->parsed()) {
      auto c = OpenClient(s);
      const client::ServerInfo info = Must(client::GetServerInfo(*c));
      std::cout << "Status:\t\tOK - server is reachable and responding to queries\n"
                << "Version:\t" << info.version << "\n"
                << "Up time:\t"
                << HumanDuration(static_cast<int64_t>(std::time(nullptr)) - info.started_at) << "\n"
                << "Databases:\t" << info.num_databases << " ("
                << HumanBytes(static_cast<uint64_t>(info.disk_size)) << ")\n"
                << "Transactions:\t" << info.num_transactions << "\n";
      return 0;
    }
    if (login->parsed()) {
      if (arg1 != "immudb") {
        throw Failure("Permission denied: user " + arg1 + " has no admin rights");
      }
      const std::string password =
          s.password.empty() ? ReadPassword("Password:", "password") : s.password;
      auto c = OpenClient(s);
      std::string warning;
      Must(c->Login(arg1, password, &warning));
      SaveToken(s, c->database(), c->token());
      std::cout << "logged in\n";
      if (warning.empty()) return 0;
      std::cout << kDefaultPasswordWarning << std::endl;
      // As immudb's immuadmin: a new password, asked on a terminal or read
      // from the next stdin lines; without more input the warning stays.
      std::string first;
      if (!ReadOptionalPassword("Choose a password for immudb:", &first)) return 0;
      const std::string fresh = ReadNewPassword(arg1, &first);
      Must(client::ChangePassword(*c, arg1, password, fresh));
      // The change ends the user's sessions: log in again with it.
      Must(c->Login(arg1, fresh));
      SaveToken(s, c->database(), c->token());
      std::cout << arg1 << "'s password has been changed\n";
      return 0;
    }
    if (logout->parsed()) {
      std::string db, token;
      if (!LoadToken(s, &db, &token)) {
        std::cout << "not logged in\n";
        return 0;
      }
      auto c = OpenClient(s);
      c->SetSession(token, db);
      immudb::Status st = c->Logout();
      ::unlink(s.TokenPath().c_str());
      Must(st);
      std::cout << "logged out\n";
      return 0;
    }
    if (dump->parsed()) {
      Dump(s, file);
      return 0;
    }
    if (backup->parsed()) {
      const bool online = backup_db->count() > 0 || backup_file->count() > 0;
      const bool offline_flags =
          backup_dbdir->count() > 0 || backup_plain->count() > 0 || backup_manual->count() > 0;
      if (online && offline_flags) {
        throw Failure(
            "backup: --db/--file (one database, online) and --dbdir/--uncompressed/"
            "--manual-stop-start (data directory, offline) do not mix");
      }
      if (!online) {
        OfflineBackup(s, offline);
      } else if (backup_db->count() == 0 || backup_file->count() == 0) {
        throw Failure("backup of a database needs both --db and --file");
      } else {
        Backup(s, file);
      }
      return 0;
    }
    if (restore->parsed()) {
      const bool online = restore_db->count() > 0 || restore_file->count() > 0;
      const bool offline_args = restore_snapshot->count() > 0 || restore_dbdir->count() > 0 ||
                                restore_manual->count() > 0;
      if (online && offline_args) {
        throw Failure(
            "restore: --file/--db (one database, online) and <snapshot>/--dbdir/"
            "--manual-stop-start (data directory, offline) do not mix");
      }
      if (online) {
        if (restore_db->count() == 0 || restore_file->count() == 0) {
          throw Failure("restore of a database needs both --file and --db");
        }
        Restore(s, file);
      } else if (restore_snapshot->count() == 0) {
        throw Failure(
            "restore needs a snapshot (offline: restore <snapshot> [--dbdir D]) or --file and "
            "--db (online)");
      } else {
        OfflineRestore(s, snapshot, offline);
      }
      return 0;
    }
    if (hot_backup->parsed()) {
      HotBackup(s, arg1, hb);
      return 0;
    }
    if (hot_restore->parsed()) {
      if (arg1.empty() && !hr.verify_only) throw Failure("hot-restore needs a database name");
      HotRestore(s, arg1, hr);
      return 0;
    }

    if (set->parsed()) {
      // Checked as immudb's immuadmin checks them, then sent; the server
      // answers that these calls are not supported.
      if (arg1 == "auth") {
        if (arg2 != "none" && arg2 != "password") {
          throw Failure("unsupported " + arg2 +
                        " auth mode, only none and password are currently supported");
        }
        Must(client::UpdateAuthConfig(*SessionClient(s), arg2 == "password" ? 1 : 0));
        std::cout << "Server auth config updated\n";
      } else if (arg1 == "mtls") {
        if (arg2 != "true" && arg2 != "false") {
          throw Failure("unsupported value " + arg2 + ", server MTLS can be set to true or false");
        }
        Must(client::UpdateMTLSConfig(*SessionClient(s), arg2 == "true"));
        std::cout << "Server MTLS config updated\n";
      } else {
        throw Failure("unsupported " + arg1 + " config item, supported config items: auth or mtls");
      }
      return 0;
    }

    auto c = SessionClient(s);
    if (user_list->parsed()) {
      PrintUsers(Must(client::ListUsers(*c)));
    } else if (user_create->parsed()) {
      const uint32_t level = Permission(arg2);
      const std::string password = ReadNewPassword(arg1);
      Must(client::CreateUser(*c, arg1, password, level, arg3.empty() ? c->database() : arg3));
      std::cout << "Created user " << arg1 << "\n";
    } else if (user_pw->parsed()) {
      const std::string old_password =
          arg1 == "immudb" ? ReadPassword("Old password:", "old password") : "";
      const std::string password = ReadNewPassword(arg1);
      Must(client::ChangePassword(*c, arg1, old_password, password));
      std::cout << arg1 << "'s password has been changed\n";
    } else if (user_on->parsed() || user_off->parsed()) {
      Must(client::SetActiveUser(*c, arg1, user_on->parsed()));
      std::cout << "User status changed successfully\n";
    } else if (user_perm->parsed()) {
      if (arg1 != "grant" && arg1 != "revoke") throw Failure("action must be grant or revoke");
      Must(client::ChangePermission(*c, arg1 == "grant", arg2, arg4, Permission(arg3)));
      std::cout << "Permission changed successfully\n";
    } else if (db_list->parsed()) {
      PrintDatabases(Must(client::ListDatabases(*c)), c->database());
    } else if (db_create->parsed()) {
      bool existed = false;
      auto settings =
          Must(client::CreateDatabase(*c, arg1, create_flags.Proto(), if_not_exists, &existed));
      if (existed) {
        std::cout << "database '" << arg1 << "' already exists\n";
      } else {
        std::cout << "database '" << arg1 << "' " << SettingsText(settings)
                  << " successfully created\n";
      }
    } else if (db_update->parsed()) {
      auto settings = Must(client::UpdateDatabase(*c, arg1, update_flags.Proto()));
      std::cout << "database '" << arg1 << "' " << SettingsText(settings)
                << " successfully updated\n";
    } else if (db_use->parsed()) {
      Must(c->UseDatabase(arg1));
      SaveToken(s, arg1, c->token());
      std::cout << "now using database '" << arg1 << "'\n";
    } else if (db_load->parsed()) {
      Must(client::LoadDatabase(*c, arg1));
      std::cout << "database '" << arg1 << "' successfully loaded\n";
    } else if (db_delete->parsed()) {
      if (!i_know) {
        throw Failure("deleting database '" + arg1 +
                      "' removes its data for good: add --yes-i-know-what-i-am-doing");
      }
      Must(client::DeleteDatabase(*c, arg1));
      std::cout << "database '" << arg1 << "' successfully deleted\n";
    } else if (db_unload->parsed()) {
      Must(client::UnloadDatabase(*c, arg1));
      std::cout << "database '" << arg1 << "' successfully unloaded\n";
    } else if (db_flush->parsed()) {
      Must(client::FlushIndex(*c, cleanup_percentage, synced));
      std::cout << "database index successfully flushed\n";
    } else if (db_compact->parsed()) {
      Must(client::CompactIndex(*c));
      std::cout << "database index successfully compacted\n";
    } else if (db_truncate->parsed()) {
      // immudb's immuadmin: the flag is required; set to false it only says so.
      if (truncate_i_know_opt->count() == 0) {
        throw Failure("required flag(s) \"yes-i-know-what-i-am-doing\" not set");
      }
      if (!truncate_i_know) {
        std::cout << "database '" << arg1 << "' was not truncated. Safety flag not set\n";
        return 0;
      }
      auto ms = client::ParseDuration(retention);
      if (!ms.ok()) throw Failure(ms.status().message());
      std::cout << "truncating database '" << arg1 << "' up to retention period '"
                << immudb::DurationText(ms->count()) << "'...\n";
      Must(client::TruncateDatabase(*c, arg1, ms->count()));
      std::cout << "database '" << arg1 << "' successfully truncated\n";
    }
  } catch (const Failure& f) {
    std::cerr << "immuadmin: " << f.what() << "\n";
    return 1;
  }
  return 0;
}
