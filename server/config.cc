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

// One setting: its flag name (also the TOML key; env var IMMUDB_<NAME>),
// optional short flag, type, and where the parsed value goes (nullptr for
// settings accepted for compatibility but not used by this server).
struct Spec {
  const char* name;
  const char* short_flag;
  Kind kind;
  const char* help;
  std::string ServerConfig::*str = nullptr;
  bool ServerConfig::*boolean = nullptr;
  int ServerConfig::*i32 = nullptr;
  int64_t ServerConfig::*i64 = nullptr;
  const char* unused_default = "";
  bool secret = false;
};

std::vector<Spec> Specs() {
  using C = ServerConfig;
  return {
      {"dir", "", Kind::kString, "data directory", &C::dir},
      {"address", "a", Kind::kString, "bind address", &C::address},
      {"port", "p", Kind::kInt, "gRPC port", nullptr, nullptr, &C::port},
      {"pidfile", "", Kind::kString, "pid file path", &C::pidfile},
      {"logfile", "", Kind::kString, "log file (default: stdout)", &C::logfile},
      {"logformat", "", Kind::kString, "log format: text or json", &C::logformat},
      {"auth", "s", Kind::kBool, "enable authentication", nullptr, &C::auth},
      {"mtls", "m", Kind::kBool, "require client certificates", nullptr, &C::mtls},
      {"certificate", "", Kind::kString, "server certificate (PEM)", &C::certificate},
      {"pkey", "", Kind::kString, "server private key (PEM)", &C::pkey},
      {"clientcas", "", Kind::kString, "client CA certificates (PEM)", &C::clientcas},
      {"max-recv-msg-size", "", Kind::kInt, "max received message bytes", nullptr, nullptr, nullptr,
       &C::max_recv_msg_size},
      {"devmode", "", Kind::kBool, "accept remote clients when auth is off", nullptr, &C::devmode},
      {"admin-password", "", Kind::kString, "initial sysadmin password (plain or enc:<base64>)",
       &C::admin_password, nullptr, nullptr, nullptr, "", true},
      {"force-admin-password", "", Kind::kBool, "reset the sysadmin password at startup", nullptr,
       &C::force_admin_password},
      {"maintenance", "", Kind::kBool, "maintenance mode (requires auth off)", nullptr,
       &C::maintenance},
      {"signingKey", "", Kind::kString, "PEM EC P-256 private key for state signatures",
       &C::signing_key},
      {"synced", "", Kind::kBool, "fsync on commit", nullptr, &C::synced},
      {"replication-is-replica", "", Kind::kBool, "defaultdb is a replica of a primary", nullptr,
       &C::replication_is_replica},
      {"replication-primary-host", "", Kind::kString, "primary server host (replicas)",
       &C::replication_primary_host},
      {"replication-primary-port", "", Kind::kInt, "primary server port (replicas)", nullptr,
       nullptr, &C::replication_primary_port},
      {"replication-primary-username", "", Kind::kString, "user on the primary (replicas)",
       &C::replication_primary_username},
      {"replication-primary-password", "", Kind::kString, "password on the primary (replicas)",
       &C::replication_primary_password, nullptr, nullptr, nullptr, "", true},
      {"token-expiry-time", "", Kind::kInt, "token lifetime in minutes", nullptr, nullptr, nullptr,
       &C::token_expiry_minutes},
      {"metrics-server", "", Kind::kBool, "serve /metrics, /readyz, /livez", nullptr,
       &C::metrics_server},
      {"metrics-server-port", "", Kind::kInt, "metrics server port", nullptr, nullptr,
       &C::metrics_server_port},
      {"web-server", "", Kind::kBool, "serve the REST API under /api", nullptr, &C::web_server},
      {"web-server-port", "", Kind::kInt, "REST API port", nullptr, nullptr, &C::web_server_port},
      {"swaggerui", "", Kind::kBool, "serve the OpenAPI document under /api/docs/", nullptr,
       &C::swaggerui},
      {"max-sessions", "", Kind::kInt, "most open sessions", nullptr, nullptr, &C::max_sessions},
      {"session-timeout", "", Kind::kDuration, "idle time after which a session is closed", nullptr,
       nullptr, nullptr, &C::session_timeout_ms},
      {"max-session-inactivity-time", "", Kind::kDuration,
       "idle time after which a session counts as inactive", nullptr, nullptr, nullptr,
       &C::max_session_inactivity_ms},
      {"max-session-age-time", "", Kind::kDuration, "session lifetime (0 = no limit)", nullptr,
       nullptr, nullptr, &C::max_session_age_ms},
      {"sessions-guard-check-interval", "", Kind::kDuration,
       "how often expired sessions are closed", nullptr, nullptr, nullptr,
       &C::sessions_guard_check_interval_ms},
      // Accepted for compatibility with immudb's flags and immudb.toml; unused.
      {"logdir", "", Kind::kString, "(unused)", nullptr, nullptr, nullptr, nullptr, "immulog"},
      {"detached", "d", Kind::kBool, "(unused)", nullptr, nullptr, nullptr, nullptr, "false"},
      {"no-histograms", "", Kind::kBool, "(unused)", nullptr, nullptr, nullptr, nullptr, "false"},
      {"auto-cert", "", Kind::kBool, "(unused)", nullptr, nullptr, nullptr, nullptr, "false"},
      {"pgsql-server", "", Kind::kBool, "(unused)", nullptr, nullptr, nullptr, nullptr, "true"},
      {"pgsql-server-port", "", Kind::kInt, "(unused)", nullptr, nullptr, nullptr, nullptr, "5432"},
      {"grpc-reflection", "", Kind::kBool, "(unused)", nullptr, nullptr, nullptr, nullptr, "true"},
      {"pprof", "", Kind::kBool, "(unused)", nullptr, nullptr, nullptr, nullptr, "false"},
      {"log-access", "", Kind::kBool, "(unused)", nullptr, nullptr, nullptr, nullptr, "false"},
  };
}

std::string DefaultString(const Spec& s) {
  static const ServerConfig d;
  if (s.str) return d.*s.str;
  if (s.boolean) return d.*s.boolean ? "true" : "false";
  if (s.i32) return std::to_string(d.*s.i32);
  if (s.i64 && s.kind == Kind::kDuration) return std::to_string(d.*s.i64) + "ms";
  if (s.i64) return std::to_string(d.*s.i64);
  return s.unused_default;
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

// Checks `raw` against the setting's type and range and stores it.
Status Apply(const Spec& s, const std::string& raw, const std::string& source, ServerConfig* c) {
  auto bad = [&](const char* want) {
    return Status::InvalidArgument("invalid value \"" + raw + "\" for " + s.name + " (from " +
                                   source + "): " + want);
  };
  switch (s.kind) {
    case Kind::kBool: {
      auto b = ParseBool(raw);
      if (!b) return bad("want true or false");
      if (s.boolean) c->*s.boolean = *b;
      return Status::OK();
    }
    case Kind::kInt: {
      auto n = ParseInt(raw);
      if (!n) return bad("want an integer");
      if (s.i32) {
        const std::string name = s.name;
        const bool is_port = name.size() >= 4 && name.compare(name.size() - 4, 4, "port") == 0;
        if (is_port && (*n < 0 || *n > 65535)) return bad("want 0..65535");
        if (!is_port && (*n < 1 || *n > INT32_MAX)) return bad("want a positive integer");
        c->*s.i32 = static_cast<int>(*n);
      }
      if (s.i64) {
        if (*n <= 0 || *n > (std::string(s.name) == "max-recv-msg-size" ? INT32_MAX : INT64_MAX)) {
          return bad("want a positive integer");
        }
        c->*s.i64 = *n;
      }
      return Status::OK();
    }
    case Kind::kDuration: {
      auto ms = ParseDurationMs(raw);
      if (!ms) return bad("want a duration such as 90s, 2m or 1h");
      if (s.i64) c->*s.i64 = *ms;
      return Status::OK();
    }
    case Kind::kString:
      if (s.str) c->*s.str = raw;
      return Status::OK();
  }
  return Status::OK();
}

const ProgramInfo& Program() {
  static const ProgramInfo program = {
      "immudb",       "immudb: the verifiable, append-only key-value database server",
      IMMUDB_VERSION, "IMMUDB_",
      "immudb.toml",  {"$HOME", "../src/configs"}};
  return program;
}

}  // namespace

Result<ParsedCommand> ParseConfig(int argc, const char* const* argv, const char* const* env) {
  ParsedCommand out;
  const std::vector<Spec> specs = Specs();
  std::vector<SettingFlag> flags;
  for (const Spec& s : specs) {
    flags.push_back({s.name, s.short_flag, s.kind == Kind::kBool, false,
                     std::string(s.help) + " (default " + DefaultString(s) + ")"});
  }
  IMMUDB_ASSIGN_OR_RETURN(CommandLine cmd, ParseCommandLine(Program(), flags, argc, argv, env));
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
    std::optional<RawSetting> raw = Lookup(Program(), flags[i], cmd, file_values);
    if (!raw) continue;
    IMMUDB_RETURN_IF_ERROR(Apply(s, raw->value, raw->source, &out.config));
    if (raw->value != DefaultString(s)) {
      out.config.non_defaults.push_back(
          std::string(s.name) + "=" + (s.secret ? "****" : raw->value) + " (" + raw->source + ")");
    }
  }
  ServerConfig& c = out.config;
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
  if (c.replication_primary_port <= 0 || c.replication_primary_port > 65535) {
    return Status::InvalidArgument("invalid replication-primary-port " +
                                   std::to_string(c.replication_primary_port));
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
  if (c.logformat != "text" && c.logformat != "json") {
    return Status::InvalidArgument("invalid value \"" + c.logformat +
                                   "\" for logformat: want text or json");
  }
  return out;
}

}  // namespace immudb::server
