#include "server/config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>

#include "server/layered_settings.h"
#include "server/toml_settings.h"

namespace immudb::server {
namespace {

enum class Kind { kString, kBool, kInt, kDuration };

// One setting: its flag name (also the TOML key; env var IMMUDB_<NAME>), an
// optional short flag and an optional alias (immudb v1.1's name), its type,
// the allowed range or values, and where the parsed value goes. A setting
// with no destination is accepted for compatibility with immudb but has no
// effect here: a value other than its default is reported in `warnings`.
struct Spec {
  const char* name;
  Kind kind;
  const char* help;
  std::string ServerConfig::*str = nullptr;
  bool ServerConfig::*boolean = nullptr;
  int ServerConfig::*i32 = nullptr;
  int64_t ServerConfig::*i64 = nullptr;
  const char* short_flag = "";
  const char* alias = "";
  int64_t min = 0;  // Integers and durations (milliseconds).
  int64_t max = INT64_MAX;
  bool zero_ok = false;              // 0 is allowed below `min` (0 = off).
  std::vector<std::string> choices;  // Strings: the allowed values, when any.
  bool secret = false;
  // Settings without effect: the default (as text), why it has no effect,
  // and a value that is quiet besides the default (what this server does).
  const char* inert_default = "";
  const char* no_effect_reason = "";
  const char* quiet_value = nullptr;

  bool used() const { return str || boolean || i32 || i64; }
  Spec&& Short(const char* s) && {
    short_flag = s;
    return std::move(*this);
  }
  Spec&& Alias(const char* a) && {
    alias = a;
    return std::move(*this);
  }
  Spec&& Range(int64_t lo, int64_t hi, bool zero = false) && {
    min = lo;
    max = hi;
    zero_ok = zero;
    return std::move(*this);
  }
  Spec&& Choices(std::vector<std::string> c) && {
    choices = std::move(c);
    return std::move(*this);
  }
  Spec&& Secret() && {
    secret = true;
    return std::move(*this);
  }
  Spec&& Quiet(const char* v) && {
    quiet_value = v;
    return std::move(*this);
  }
};

using C = ServerConfig;
constexpr int64_t kPortMax = 65535;
constexpr int64_t kMinute = 60 * 1000;

Spec Str(const char* name, const char* help, std::string C::*f) {
  return Spec{name, Kind::kString, help, f};
}
Spec Bool(const char* name, const char* help, bool C::*f) {
  return Spec{name, Kind::kBool, help, nullptr, f};
}
Spec Int(const char* name, const char* help, int C::*f, int64_t lo, int64_t hi) {
  Spec s{name, Kind::kInt, help, nullptr, nullptr, f};
  s.min = lo;
  s.max = hi;
  return s;
}
Spec Int64(const char* name, const char* help, int64_t C::*f, int64_t lo, int64_t hi) {
  Spec s{name, Kind::kInt, help, nullptr, nullptr, nullptr, f};
  s.min = lo;
  s.max = hi;
  return s;
}
Spec Duration(const char* name, const char* help, int64_t C::*f) {
  return Spec{name, Kind::kDuration, help, nullptr, nullptr, nullptr, f};
}
// A setting accepted for compatibility that has no effect here.
Spec Inert(const char* name, Kind kind, const char* dflt, const char* reason) {
  Spec s{name, kind, "no effect in this server"};
  s.inert_default = dflt;
  s.no_effect_reason = reason;
  return s;
}

std::vector<Spec> Specs() {
  const char* kNoS3 = "this server keeps data on local disk only";
  const char* kNoSyncRepl = "replication here is asynchronous";
  const char* kNoReplTuning = "the replicator fetches and commits one transaction at a time";
  return {
      Str("dir", "data directory", &C::dir),
      Str("address", "bind address", &C::address).Short("a"),
      Int("port", "gRPC port", &C::port, 0, kPortMax).Short("p"),
      Str("pidfile", "pid file path", &C::pidfile),
      Str("logfile", "log file (default: stdout); relative: under logdir", &C::logfile),
      Str("logdir", "directory of a relative logfile; relative: under dir", &C::logdir),
      Str("logformat", "log format: text or json", &C::logformat).Choices({"text", "json"}),
      Int64("log-rotation-size", "start a new log segment past this many bytes (0 = never)",
            &C::log_rotation_size, 0, INT64_MAX),
      Duration("log-rotation-age", "start a new log segment this often (0 = never, else >= 1m)",
               &C::log_rotation_age_ms)
          .Range(kMinute, INT64_MAX, true),
      Bool("detached", "run in the background", &C::detached).Short("d"),
      Bool("auth", "enable authentication", &C::auth).Short("s"),
      Bool("mtls", "require client certificates", &C::mtls).Short("m"),
      Str("certificate", "server certificate (PEM)", &C::certificate),
      Str("pkey", "server private key (PEM)", &C::pkey),
      Str("clientcas", "client CA certificates (PEM)", &C::clientcas),
      Int64("max-recv-msg-size", "max received message bytes", &C::max_recv_msg_size, 1, INT32_MAX),
      Bool("no-histograms", "leave the RPC latency histogram out of /metrics", &C::no_histograms),
      Bool("devmode", "accept remote clients when auth is off", &C::devmode),
      Str("admin-password", "initial sysadmin password (plain or enc:<base64>)", &C::admin_password)
          .Secret(),
      Bool("force-admin-password", "reset the sysadmin password at startup",
           &C::force_admin_password),
      Bool("maintenance", "maintenance mode (requires auth off)", &C::maintenance),
      Str("signingKey", "PEM EC P-256 private key for state signatures", &C::signing_key),
      Bool("synced", "fsync on commit", &C::synced),
      Bool("replication-is-replica", "defaultdb is a replica of a primary",
           &C::replication_is_replica)
          .Alias("replication-enabled"),
      Str("replication-primary-host", "primary server host (replicas)",
          &C::replication_primary_host)
          .Alias("replication-master-address"),
      Int("replication-primary-port", "primary server port (replicas)",
          &C::replication_primary_port, 1, kPortMax)
          .Alias("replication-master-port"),
      Str("replication-primary-username", "user on the primary (replicas)",
          &C::replication_primary_username)
          .Alias("replication-follower-username"),
      Str("replication-primary-password", "password on the primary (replicas)",
          &C::replication_primary_password)
          .Alias("replication-follower-password")
          .Secret(),
      Int64("token-expiry-time", "token lifetime in minutes", &C::token_expiry_minutes, 1,
            INT32_MAX),
      Bool("metrics-server", "serve /metrics, /readyz, /livez", &C::metrics_server),
      Int("metrics-server-port", "metrics server port", &C::metrics_server_port, 0, kPortMax),
      Bool("web-server", "serve the REST API under /api", &C::web_server),
      Int("web-server-port", "REST API port", &C::web_server_port, 0, kPortMax),
      Bool("swaggerui", "serve the OpenAPI document under /api/docs/", &C::swaggerui),
      Bool("grpc-reflection", "serve the gRPC reflection service", &C::grpc_reflection),
      Str("grpc-dispatch",
          "how gRPC calls reach the handlers: queues (threads of our own on async completion "
          "queues) or callback (gRPC's callback API and its threads)",
          &C::grpc_dispatch)
          .Choices({"callback", "queues"}),
      Int("grpc-dispatch-threads", "threads (and completion queues) of --grpc-dispatch=queues",
          &C::grpc_dispatch_threads, 1, 64),
      Str("grpc-poll-strategy",
          "gRPC's polling engine (GRPC_POLL_STRATEGY): poll (each connection polled by the queue "
          "it was accepted on), epoll1 (one epoll set for all queues) or empty (gRPC's choice)",
          &C::grpc_poll_strategy)
          .Choices({"", "epoll1", "poll"}),
      Int("max-sessions", "most open sessions", &C::max_sessions, 1, INT32_MAX),
      Duration("session-timeout", "idle time after which a session is closed",
               &C::session_timeout_ms),
      Duration("max-session-inactivity-time", "idle time after which a session counts as inactive",
               &C::max_session_inactivity_ms),
      Duration("max-session-age-time", "session lifetime (0 = no limit)", &C::max_session_age_ms),
      Duration("sessions-guard-check-interval", "how often expired sessions are closed",
               &C::sessions_guard_check_interval_ms),
      // Accepted for compatibility with immudb's flags and immudb.toml.
      Inert("auto-cert", Kind::kBool, "false", "no self-signed certificate is generated"),
      Inert("pgsql-server", Kind::kBool, "true", "there is no PostgreSQL wire protocol server")
          .Quiet("false"),
      Inert("pgsql-server-port", Kind::kInt, "5432", "there is no PostgreSQL wire protocol server")
          .Range(0, kPortMax),
      Inert("pprof", Kind::kBool, "false", "there is no profiling endpoint"),
      Inert("log-access", Kind::kBool, "false", "there is no per-request access log"),
      Inert("log-request-metadata", Kind::kBool, "false", "transactions carry no request metadata"),
      Inert("max-active-databases", Kind::kInt, "100", "every loaded database stays open")
          .Range(1, INT32_MAX),
      Inert("max-key-length", Kind::kInt, "0",
            "there is no SQL engine (the key length limit is the database's max-key-len)")
          .Range(64, kPortMax, true),
      Inert("audit-log", Kind::kBool, "false", "there is no structured audit log"),
      Inert("audit-log-events", Kind::kString, "all", "there is no structured audit log")
          .Choices({"all", "write", "admin"}),
      Inert("s3-storage", Kind::kBool, "false", kNoS3),
      Inert("s3-endpoint", Kind::kString, "", kNoS3),
      Inert("s3-access-key-id", Kind::kString, "", kNoS3),
      Inert("s3-secret-key", Kind::kString, "", kNoS3).Secret(),
      Inert("s3-bucket-name", Kind::kString, "", kNoS3),
      Inert("s3-location", Kind::kString, "", kNoS3),
      Inert("s3-path-prefix", Kind::kString, "", kNoS3),
      Inert("s3-role-enabled", Kind::kBool, "false", kNoS3),
      Inert("s3-role", Kind::kString, "", kNoS3),
      Inert("s3-external-identifier", Kind::kBool, "false", kNoS3),
      Inert("s3-instance-metadata-url", Kind::kString, "http://169.254.169.254", kNoS3),
      Inert("s3-use-fargate-credentials", Kind::kBool, "false", kNoS3),
      Inert("s3-server-side-encryption", Kind::kString, "", kNoS3)
          .Choices({"", "AES256", "aws:kms"}),
      Inert("s3-sse-kms-key-id", Kind::kString, "", kNoS3),
      Inert("replication-sync-enabled", Kind::kBool, "false", kNoSyncRepl),
      Inert("replication-sync-acks", Kind::kInt, "0", kNoSyncRepl).Range(0, INT32_MAX),
      Inert("replication-prefetch-tx-buffer-size", Kind::kInt, "100", kNoReplTuning)
          .Range(1, INT32_MAX),
      Inert("replication-commit-concurrency", Kind::kInt, "10", kNoReplTuning).Range(1, INT32_MAX),
      Inert("replication-allow-tx-discarding", Kind::kBool, "false",
            "a replica never holds transactions the primary has not committed"),
      Inert("replication-skip-integrity-check", Kind::kBool, "false",
            "every replicated transaction is verified"),
      Inert("replication-wait-for-indexing", Kind::kBool, "false",
            "the replicator does not wait for the index"),
  };
}

std::string DefaultString(const Spec& s) {
  static const ServerConfig d;
  if (s.str) return d.*s.str;
  if (s.boolean) return d.*s.boolean ? "true" : "false";
  if (s.i32) return std::to_string(d.*s.i32);
  if (s.i64 && s.kind == Kind::kDuration) return std::to_string(d.*s.i64) + "ms";
  if (s.i64) return std::to_string(d.*s.i64);
  return s.inert_default;
}

std::optional<int64_t> ParseInt(const std::string& v) {
  int64_t out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || p != v.data() + v.size() || v.empty()) return std::nullopt;
  return out;
}

// Go duration text ("1h2m3s", "90s", "500ms", "0") in milliseconds.
std::optional<int64_t> ParseDurationMs(const std::string& v) {
  if (v == "0") return 0;
  int64_t total = 0;
  size_t i = 0;
  if (v.empty()) return std::nullopt;
  while (i < v.size()) {
    size_t j = i;
    while (j < v.size() && std::isdigit(static_cast<unsigned char>(v[j]))) ++j;
    if (j == i || j - i > 12) return std::nullopt;
    const int64_t n = std::stoll(v.substr(i, j - i));
    size_t k = j;
    while (k < v.size() && std::isalpha(static_cast<unsigned char>(v[k]))) ++k;
    const std::string unit = v.substr(j, k - j);
    int64_t scale = 0;
    if (unit == "ms") scale = 1;
    if (unit == "s") scale = 1000;
    if (unit == "m") scale = 60 * 1000;
    if (unit == "h") scale = 60 * 60 * 1000;
    if (scale == 0) return std::nullopt;
    constexpr int64_t kMaxMs = int64_t{100} * 365 * 24 * 3600 * 1000;  // 100 years.
    if (n > kMaxMs / scale || total > kMaxMs - n * scale) return std::nullopt;
    total += n * scale;
    i = k;
  }
  return total;
}

// Checks `raw` against the setting's type, range and choices; stores it when
// the setting has a destination. Returns the parsed value in canonical text
// (booleans true/false, integers in decimal, durations in milliseconds), so
// that values written differently compare equal.
Result<std::string> Apply(const Spec& s, const std::string& raw, const std::string& source,
                          ServerConfig* c) {
  auto bad = [&](const std::string& want) {
    return Status::InvalidArgument("invalid value \"" + raw + "\" for " + s.name + " (from " +
                                   source + "): " + want);
  };
  auto range_text = [&]() {
    std::string t = s.max == INT64_MAX || s.max == INT32_MAX
                        ? "at least " + std::to_string(s.min)
                        : std::to_string(s.min) + ".." + std::to_string(s.max);
    return s.zero_ok ? "0 or " + t : t;
  };
  switch (s.kind) {
    case Kind::kBool: {
      auto b = ParseBool(raw);
      if (!b) return bad("want true or false");
      if (s.boolean) c->*s.boolean = *b;
      return std::string(*b ? "true" : "false");
    }
    case Kind::kInt: {
      auto n = ParseInt(raw);
      if (!n) return bad("want an integer");
      if ((*n < s.min || *n > s.max) && !(s.zero_ok && *n == 0)) {
        return bad("want an integer, " + range_text());
      }
      if (s.i32) c->*s.i32 = static_cast<int>(*n);
      if (s.i64) c->*s.i64 = *n;
      return std::to_string(*n);
    }
    case Kind::kDuration: {
      auto ms = ParseDurationMs(raw);
      if (!ms) return bad("want a duration such as 90s, 2m or 1h");
      if ((*ms < s.min || *ms > s.max) && !(s.zero_ok && *ms == 0)) {
        return bad("want 0 or a duration of at least " + std::to_string(s.min / 1000) + "s");
      }
      if (s.i64) c->*s.i64 = *ms;
      return std::to_string(*ms);
    }
    case Kind::kString:
      if (!s.choices.empty() &&
          std::find(s.choices.begin(), s.choices.end(), raw) == s.choices.end()) {
        std::string want = "want one of";
        for (const std::string& ch : s.choices) want += " \"" + ch + "\"";
        return bad(want);
      }
      if (s.str) c->*s.str = raw;
      return raw;
  }
  return raw;
}

// The canonical text of the setting's default (as Apply returns it).
std::string CanonicalDefault(const Spec& s) {
  ServerConfig scratch;
  Spec unchecked = s;
  unchecked.choices.clear();
  unchecked.zero_ok = true;
  unchecked.min = 0;
  auto v = Apply(unchecked, DefaultString(s), "default", &scratch);
  return v.ok() ? *v : DefaultString(s);
}

// Where immudb installs itself as a service; that binary also looks in /etc.
constexpr const char* kServiceExecutable = "/usr/sbin/immudb";

std::vector<std::string> SearchDirs(const std::map<std::string, std::string>& env,
                                    const std::string& executable) {
  std::vector<std::string> dirs;
  if (auto it = env.find("HOME"); it != env.end() && !it->second.empty()) {
    dirs.push_back(it->second);
  }
  dirs.emplace_back("../src/configs");
  if (auto it = env.find("GOPATH"); it != env.end() && !it->second.empty()) {
    dirs.push_back(it->second + "/src/configs");
  }
  if (executable == kServiceExecutable) dirs.emplace_back("/etc/immudb");
  return dirs;
}

// immudb's command line; the settings file search depends on the environment
// and on the running binary.
ProgramInfo Program(const std::string& executable) {
  ProgramInfo program;
  program.name = "immudb";
  program.description = "immudb: the verifiable, append-only key-value database server";
  program.version = IMMUDB_VERSION;
  program.env_prefix = "IMMUDB_";
  program.config_name = "immudb.toml";
  program.config_search = [executable](const std::map<std::string, std::string>& env) {
    return SearchDirs(env, executable);
  };
  program.alias_group = "Aliases (immudb v1.1)";
  return program;
}

}  // namespace

std::vector<std::string> ConfigSearchDirs(const char* const* env, const std::string& executable) {
  return SearchDirs(EnvMap(env), executable);
}

std::string ServerConfig::LogFilePath() const {
  if (logfile.empty()) return "";
  namespace fs = std::filesystem;
  if (fs::path(logfile).is_absolute()) return logfile;
  fs::path d = logdir;
  if (d.is_relative()) d = fs::path(dir) / d;
  return (d / logfile).string();
}

Result<ParsedCommand> ParseConfig(int argc, const char* const* argv, const char* const* env,
                                  const std::string& executable) {
  ParsedCommand out;
  const std::vector<Spec> specs = Specs();
  const ProgramInfo program = Program(executable);
  std::vector<SettingFlag> flags;
  for (const Spec& s : specs) {
    SettingFlag f{s.name, s.short_flag, s.kind == Kind::kBool, false,
                  std::string(s.help) + " (default " + DefaultString(s) + ")"};
    f.group = s.used() ? "Options" : "Accepted for compatibility (no effect)";
    f.alias = s.alias;
    flags.push_back(std::move(f));
  }
  IMMUDB_ASSIGN_OR_RETURN(CommandLine cmd, ParseCommandLine(program, flags, argc, argv, env));
  if (cmd.exit_now) {
    out.exit_now = true;
    out.output = cmd.output;
    return out;
  }
  std::map<std::string, std::string> file_values;
  if (!cmd.config_path.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(cmd.config_path, ec)) {
      if (cmd.config_required) {
        return Status::InvalidArgument("config file not found: " + cmd.config_path);
      }
    } else {
      IMMUDB_ASSIGN_OR_RETURN(file_values, ReadTomlSettings(cmd.config_path));
      out.config.config = cmd.config_path;
    }
  }

  for (size_t i = 0; i < specs.size(); ++i) {
    const Spec& s = specs[i];
    IMMUDB_ASSIGN_OR_RETURN(std::optional<RawSetting> raw,
                            Lookup(program, flags[i], cmd, file_values));
    if (!raw) continue;
    IMMUDB_ASSIGN_OR_RETURN(std::string value, Apply(s, raw->value, raw->source, &out.config));
    if (std::string(s.name) == "s3-storage" && value == "true") {
      return Status::InvalidArgument("s3-storage (from " + raw->source +
                                     ") is not supported: this server keeps data on local disk "
                                     "only");
    }
    if (value == CanonicalDefault(s)) continue;
    const std::string shown =
        std::string(s.name) + "=" + (s.secret ? "****" : raw->value) + " (" + raw->source + ")";
    if (s.used()) {
      out.config.non_defaults.push_back(shown);
    } else if (s.quiet_value == nullptr || value != s.quiet_value) {
      out.config.warnings.push_back(shown + " has no effect in this server: " + s.no_effect_reason);
    }
  }
  ServerConfig& c = out.config;
  if (auto it = cmd.env.find("LOG_LEVEL"); it != cmd.env.end() && !it->second.empty()) {
    std::string level = it->second;
    std::transform(level.begin(), level.end(), level.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    if (level == "debug" || level == "info" || level == "warn" || level == "warning" ||
        level == "error") {
      c.log_level = level == "warning" ? "warn" : level;
      if (c.log_level != "info") {
        c.non_defaults.push_back("LOG_LEVEL=" + it->second + " (environment LOG_LEVEL)");
      }
    } else {
      c.warnings.push_back("LOG_LEVEL=" + it->second +
                           " is not a log level (debug, info, warn, error): logging at info");
    }
  }
  if (c.logfile.empty() && (c.log_rotation_size > 0 || c.log_rotation_age_ms > 0)) {
    c.warnings.push_back("log-rotation-size and log-rotation-age have no effect without logfile");
  }
  if (c.admin_password.empty()) return Status::InvalidArgument("Admin password cannot be empty");
  if (c.certificate.empty() != c.pkey.empty()) {
    return Status::InvalidArgument("both certificate and pkey must be given, or neither");
  }
  if (c.mtls && (c.certificate.empty() || c.clientcas.empty())) {
    return Status::InvalidArgument("mtls requires certificate, pkey and clientcas");
  }
  if (c.session_timeout_ms <= 0 || c.sessions_guard_check_interval_ms <= 0) {
    return Status::InvalidArgument(
        "session-timeout and sessions-guard-check-interval must be positive durations");
  }
  if (c.replication_is_replica &&
      (c.replication_primary_host.empty() || c.replication_primary_username.empty())) {
    return Status::InvalidArgument(
        "replication-is-replica needs replication-primary-host and "
        "replication-primary-username");
  }
  if (!c.replication_is_replica && !c.replication_primary_host.empty()) {
    return Status::InvalidArgument(
        "replication-primary-host is set only with replication-is-replica");
  }
  if (c.maintenance && c.auth) {
    return Status::InvalidArgument("maintenance mode requires authentication to be disabled");
  }
  if (c.web_server && c.web_server_port != 0 &&
      (c.web_server_port == c.port ||
       (c.metrics_server && c.web_server_port == c.metrics_server_port))) {
    return Status::InvalidArgument("web-server-port " + std::to_string(c.web_server_port) +
                                   " is already used by the gRPC or the metrics server");
  }
  return out;
}

}  // namespace immudb::server
