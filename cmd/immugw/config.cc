#include "cmd/immugw/config.h"

#include <toml++/toml.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <filesystem>
#include <map>
#include <sstream>

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

std::optional<bool> ParseBool(const std::string& v) {
  for (const char* t : {"1", "t", "T", "true", "TRUE", "True"}) {
    if (v == t) return true;
  }
  for (const char* f : {"0", "f", "F", "false", "FALSE", "False"}) {
    if (v == f) return false;
  }
  return std::nullopt;
}

std::string EnvName(const std::string& name) {
  std::string out = "IMMUGW_";
  for (char c : name) out += c == '-' ? '_' : static_cast<char>(std::toupper(c));
  return out;
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
    std::optional<bool> b = ParseBool(raw);
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
  CLI::App app{"immugw: a REST proxy for immudb that verifies the server's proofs", "immugw"};
  std::map<std::string, std::string> flag_values;
  std::map<std::string, CLI::Option*> flag_options;
  for (const Spec& s : Specs()) {
    std::string names = std::string("--") + s.name;
    if (*s.short_flag) names = std::string("-") + s.short_flag + "," + names;
    const std::string help = std::string(s.help) + " (default \"" + s.def + "\")";
    flag_options[s.name] = s.kind == Kind::kBool ? app.add_flag(names, flag_values[s.name], help)
                                                 : app.add_option(names, flag_values[s.name], help);
  }
  std::string config_flag;
  CLI::Option* config_opt = app.add_option("--config", config_flag, "config file (immugw.toml)");
  CLI::App* version = app.add_subcommand("version", "print the version and exit");
  try {
    app.parse(argc, const_cast<char**>(argv));
  } catch (const CLI::CallForHelp&) {
    out.exit_now = true;
    out.output = app.help();
    return out;
  } catch (const CLI::ParseError& e) {
    return Status::InvalidArgument(std::string("command line: ") + e.what());
  }
  if (version->parsed()) {
    out.exit_now = true;
    out.output = std::string("immugw ") + IMMUDB_VERSION + "\n";
    return out;
  }

  std::map<std::string, std::string> envs;
  for (const char* const* e = env; e != nullptr && *e != nullptr; ++e) {
    std::string_view kv(*e);
    const size_t eq = kv.find('=');
    if (eq != std::string_view::npos) {
      envs.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
    }
  }
  std::string config_path;
  bool required = true;
  if (config_opt->count() > 0) {
    config_path = config_flag;
  } else if (auto it = envs.find("IMMUGW_CONFIG"); it != envs.end()) {
    config_path = it->second;
  } else {
    required = false;
    std::vector<std::filesystem::path> dirs;
    if (auto home = envs.find("HOME"); home != envs.end()) dirs.emplace_back(home->second);
    dirs.emplace_back("configs");
    for (const auto& d : dirs) {
      std::error_code ec;
      if (std::filesystem::is_regular_file(d / "immugw.toml", ec)) {
        config_path = (d / "immugw.toml").string();
        break;
      }
    }
  }
  std::map<std::string, std::string> file_values;
  if (!config_path.empty()) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(config_path, ec)) {
      IMMUDB_ASSIGN_OR_RETURN(file_values, ReadToml(config_path));
      out.config = config_path;
    } else if (required) {
      return Status::InvalidArgument("config file not found: " + config_path);
    }
  }
  for (const auto& [key, value] : file_values) {
    const bool known = std::any_of(Specs().begin(), Specs().end(),
                                   [&key](const Spec& s) { return key == s.name; });
    if (!known)
      return Status::InvalidArgument("config file " + config_path + ": unknown key " + key);
  }

  for (const Spec& s : Specs()) {
    std::string raw = s.def;
    std::string source = "default";
    if (flag_options[s.name]->count() > 0) {
      raw = flag_values[s.name];
      if (s.kind == Kind::kBool && raw.empty()) raw = "true";
      source = std::string("flag --") + s.name;
    } else if (auto e = envs.find(EnvName(s.name)); e != envs.end()) {
      raw = e->second;
      source = "environment " + EnvName(s.name);
    } else if (auto f = file_values.find(s.name); f != file_values.end()) {
      raw = f->second;
      source = "config file " + config_path;
    }
    IMMUDB_RETURN_IF_ERROR(Apply(s, raw, source, &out));
  }
  return out;
}

}  // namespace immudb::gateway
