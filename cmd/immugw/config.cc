#include "cmd/immugw/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <map>
#include <sstream>

#include "server/layered_settings.h"

namespace immudb::gateway {
namespace {

enum class Kind { kString, kInt, kBool, kDuration };

struct Spec {
  const char* name;
  const char* short_flag;
  Kind kind;
  const char* def;
  const char* help;
};

const std::vector<Spec>& Specs() {
  static const std::vector<Spec> specs = {
      {"address", "a", Kind::kString, "0.0.0.0", "immugw listen address"},
      {"port", "p", Kind::kInt, "3323", "immugw port (0 = any free port)"},
      {"immudb-address", "k", Kind::kString, "127.0.0.1", "immudb server address"},
      {"immudb-port", "j", Kind::kInt, "3322", "immudb server port"},
      {"dir", "", Kind::kString, ".", "directory of the trusted states"},
      {"pidfile", "", Kind::kString, "", "pid file path"},
      {"logfile", "", Kind::kString, "", "log file path (default stdout)"},
      {"server-signing-pub-key", "", Kind::kString, "",
       "PEM public key of the server's state signing key"},
      {"audit", "", Kind::kBool, "false", "run the auditor in the background"},
      {"audit-interval", "", Kind::kDuration, "5m", "time between audits"},
      {"audit-username", "", Kind::kString, "immugwauditor", "user the auditor logs in as"},
      {"audit-password", "", Kind::kString, "", "its password (plain or enc:<base64>)"},
      {"audit-databases", "", Kind::kString, "",
       "comma-separated name prefixes of the databases to audit (default all)"},
      {"audit-verify-values", "", Kind::kBool, "true", "re-read new transactions' values"},
      {"audit-notification-url", "", Kind::kString, "", "URL POSTed JSON on tampering"},
      {"tls", "", Kind::kBool, "false", "TLS to immudb (server certificate checked)"},
      {"mtls", "m", Kind::kBool, "false", "mutual TLS to immudb (implies --tls)"},
      {"servername", "", Kind::kString, "", "name the server's certificate must carry"},
      {"certificate", "", Kind::kString, "", "client certificate (PEM) for mTLS"},
      {"pkey", "", Kind::kString, "", "client private key (PEM) for mTLS"},
      {"clientcas", "", Kind::kString, "", "CA certificates (PEM) that sign immudb's certificate"},
      {"detached", "d", Kind::kBool, "false", "run in background (not supported)"},
  };
  return specs;
}

const server::ProgramInfo& Program() {
  static const server::ProgramInfo program = {
      "immugw",       "immugw: a REST proxy for immudb that verifies the server's proofs",
      IMMUDB_VERSION, "IMMUGW_",
      "immugw.toml",  {"$HOME", "configs"}};
  return program;
}

Result<std::map<std::string, std::string>> ReadToml(const std::string& path) {
  std::map<std::string, std::string> out;
  toml::table tbl;
  try {
    tbl = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return Status::InvalidArgument("config file " + path + ": " + std::string(e.description()));
  }
  for (auto&& [k, v] : tbl) {
    const std::string key(k.str());
    if (v.is_string()) {
      out[key] = *v.value<std::string>();
    } else if (v.is_boolean()) {
      out[key] = *v.value<bool>() ? "true" : "false";
    } else if (v.is_integer()) {
      out[key] = std::to_string(*v.value<int64_t>());
    } else {
      return Status::InvalidArgument("config file " + path + ": key " + key +
                                     " must be a string, integer or boolean");
    }
  }
  return out;
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// Sets the option `name` of `c` from `raw`.
Status Apply(const Spec& s, const std::string& raw, const std::string& source, GatewayCommand* c) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument(std::string(s.name) + " from " + source + ": " + why);
  };
  const std::string name = s.name;
  GatewayOptions& o = c->options;
  client::AuditorOptions& a = o.audit_options;
  if (s.kind == Kind::kBool) {
    std::optional<bool> b = server::ParseBool(raw);
    if (!b) return bad("\"" + raw + "\" is not a boolean");
    if (name == "audit") o.audit = *b;
    if (name == "audit-verify-values") a.verify_values = *b;
    if (name == "tls" || name == "mtls") o.tls.enabled = o.tls.enabled || *b;
    if (name == "detached" && *b) return bad("not supported");
    return Status::OK();
  }
  if (s.kind == Kind::kInt) {
    int v = 0;
    auto [p, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), v);
    if (ec != std::errc() || p != raw.data() + raw.size() || v < 0 || v > 65535) {
      return bad("\"" + raw + "\" is not a port number");
    }
    if (name == "port") o.port = v;
    if (name == "immudb-port") o.immudb_port = v;
    return Status::OK();
  }
  if (s.kind == Kind::kDuration) {
    Result<std::chrono::milliseconds> d = client::ParseDuration(raw);
    if (!d.ok()) return bad(d.status().message());
    if (d->count() <= 0) return bad("must be positive");
    a.interval = *d;
    return Status::OK();
  }
  if (name == "address") o.address = raw;
  if (name == "immudb-address") o.immudb_address = raw;
  if (name == "dir") o.dir = raw;
  if (name == "pidfile") c->pidfile = raw;
  if (name == "logfile") c->logfile = raw;
  if (name == "server-signing-pub-key") o.server_signing_pub_key = raw;
  if (name == "audit-username") a.username = raw;
  if (name == "audit-password") {
    Result<std::string> p = client::DecodePassword(raw);
    if (!p.ok()) return bad(p.status().message());
    a.password = *p;
  }
  if (name == "audit-databases") a.databases = SplitList(raw);
  if (name == "audit-notification-url") a.notification_url = raw;
  if (name == "servername") o.tls.server_name = raw;
  if (name == "certificate") o.tls.client_cert = raw;
  if (name == "pkey") o.tls.client_key = raw;
  if (name == "clientcas") o.tls.ca_cert = raw;
  return Status::OK();
}

}  // namespace

Result<GatewayCommand> ParseGatewayCommand(int argc, const char* const* argv,
                                           const char* const* env) {
  GatewayCommand out;
  std::vector<server::SettingFlag> flags;
  for (const Spec& s : Specs()) {
    flags.push_back({s.name, s.short_flag, s.kind == Kind::kBool, false,
                     std::string(s.help) + " (default \"" + s.def + "\")"});
  }
  IMMUDB_ASSIGN_OR_RETURN(server::CommandLine cmd,
                          server::ParseCommandLine(Program(), flags, argc, argv, env));
  if (cmd.exit_now) {
    out.exit_now = true;
    out.output = cmd.output;
    return out;
  }
  std::map<std::string, std::string> file_values;
  if (!cmd.config_path.empty()) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(cmd.config_path, ec)) {
      IMMUDB_ASSIGN_OR_RETURN(file_values, ReadToml(cmd.config_path));
      out.config = cmd.config_path;
    } else if (cmd.config_required) {
      return Status::InvalidArgument("config file not found: " + cmd.config_path);
    }
  }
  for (const auto& [key, value] : file_values) {
    const bool known = std::any_of(Specs().begin(), Specs().end(),
                                   [&key](const Spec& s) { return key == s.name; });
    if (!known) {
      return Status::InvalidArgument("config file " + cmd.config_path + ": unknown key " + key);
    }
  }

  for (size_t i = 0; i < Specs().size(); ++i) {
    const Spec& s = Specs()[i];
    std::optional<server::RawSetting> raw = server::Lookup(Program(), flags[i], cmd, file_values);
    if (!raw) raw = server::RawSetting{s.def, "default"};
    IMMUDB_RETURN_IF_ERROR(Apply(s, raw->value, raw->source, &out));
  }
  return out;
}

}  // namespace immudb::gateway
