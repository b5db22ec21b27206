#include "cmd/immugw/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
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
      {"audit-notification-username", "", Kind::kString, "",
       "username sent in the tampering notification"},
      {"audit-notification-password", "", Kind::kString, "",
       "password sent in the tampering notification"},
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

constexpr char kServerSyntax[] =
    "NAME=HOST:PORT[,audit-username=USER][,audit-password=PASSWORD]"
    "[,server-signing-pub-key=FILE]";

Status ParsePort(const std::string& text, int* port) {
  int v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v <= 0 || v > 65535) {
    return Status::InvalidArgument("\"" + text + "\" is not a port number");
  }
  *port = v;
  return Status::OK();
}

// Sets a further setting of a server: `key` is audit-username,
// audit-password (plain or enc:<base64>) or server-signing-pub-key.
Status SetServerField(const std::string& key, const std::string& value, ServerOptions* s) {
  if (key == "audit-username") {
    s->audit_username = value;
  } else if (key == "audit-password") {
    IMMUDB_ASSIGN_OR_RETURN(std::string password, client::DecodePassword(value));
    s->audit_password = password;
  } else if (key == "server-signing-pub-key") {
    s->server_signing_pub_key = value;
  } else {
    return Status::InvalidArgument("unknown server setting " + key);
  }
  return Status::OK();
}

// One server from its text form, kServerSyntax; HOST may be "[ipv6]".
Result<ServerOptions> ParseServer(const std::string& text) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("server \"" + text + "\": " + why + " (want " +
                                   std::string(kServerSyntax) + ")");
  };
  std::vector<std::string> parts;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, ',');) parts.push_back(part);
  if (parts.empty()) return bad("empty");
  ServerOptions s;
  const size_t eq = parts[0].find('=');
  if (eq == std::string::npos) return bad("no NAME=");
  s.name = parts[0].substr(0, eq);
  std::string target = parts[0].substr(eq + 1);
  const size_t colon = target.rfind(':');
  if (colon == std::string::npos) return bad("no :PORT");
  s.address = target.substr(0, colon);
  if (s.address.size() > 2 && s.address.front() == '[' && s.address.back() == ']') {
    s.address = s.address.substr(1, s.address.size() - 2);
  }
  if (s.address.empty()) return bad("no HOST");
  Status st = ParsePort(target.substr(colon + 1), &s.port);
  if (!st.ok()) return bad(st.message());
  for (size_t i = 1; i < parts.size(); ++i) {
    const size_t at = parts[i].find('=');
    if (at == std::string::npos) return bad("\"" + parts[i] + "\" is not KEY=VALUE");
    st = SetServerField(parts[i].substr(0, at), parts[i].substr(at + 1), &s);
    if (!st.ok()) return bad(st.message());
  }
  return s;
}

// IMMUGW_SERVERS: servers separated by ';' or white space.
Result<std::vector<ServerOptions>> ParseServerList(const std::string& text) {
  std::vector<ServerOptions> out;
  std::string item;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == ';' || std::isspace(static_cast<unsigned char>(text[i]))) {
      if (!item.empty()) {
        IMMUDB_ASSIGN_OR_RETURN(ServerOptions s, ParseServer(item));
        out.push_back(std::move(s));
      }
      item.clear();
    } else {
      item += text[i];
    }
  }
  return out;
}

// The `servers` key of immugw.toml: an array of kServerSyntax strings, or a
// table of tables [servers.NAME] with address, port and the further settings.
Result<std::vector<ServerOptions>> ServersFromToml(const toml::node& node) {
  std::vector<ServerOptions> out;
  if (const toml::array* list = node.as_array()) {
    for (const toml::node& item : *list) {
      std::optional<std::string> text = item.value<std::string>();
      if (!text) return Status::InvalidArgument("servers: each item must be a string");
      IMMUDB_ASSIGN_OR_RETURN(ServerOptions s, ParseServer(*text));
      out.push_back(std::move(s));
    }
    return out;
  }
  const toml::table* servers = node.as_table();
  if (servers == nullptr) {
    return Status::InvalidArgument("servers must be an array of strings or a table [servers.NAME]");
  }
  for (auto&& [name, value] : *servers) {
    const std::string where = "servers." + std::string(name.str());
    const toml::table* t = value.as_table();
    if (t == nullptr) return Status::InvalidArgument(where + " must be a table");
    ServerOptions s;
    s.name = std::string(name.str());
    bool has_address = false;
    bool has_port = false;
    for (auto&& [k, v] : *t) {
      const std::string key(k.str());
      if (key == "port") {
        std::optional<int64_t> port = v.value<int64_t>();
        if (!v.is_integer() || !port || *port <= 0 || *port > 65535) {
          return Status::InvalidArgument(where + ".port must be a port number (1..65535)");
        }
        s.port = static_cast<int>(*port);
        has_port = true;
        continue;
      }
      if (!v.is_string()) return Status::InvalidArgument(where + "." + key + " must be a string");
      const std::string text = *v.value<std::string>();
      if (key == "address") {
        s.address = text;
        has_address = true;
        continue;
      }
      Status st = SetServerField(key, text, &s);
      if (!st.ok()) return Status::InvalidArgument(where + ": " + st.message());
    }
    if (!has_address || !has_port) {
      return Status::InvalidArgument(where + " needs address and port");
    }
    out.push_back(std::move(s));
  }
  return out;
}

struct FileSettings {
  std::map<std::string, std::string> values;  // Top-level scalar keys.
  std::optional<std::vector<ServerOptions>> servers;
};

Result<FileSettings> ReadToml(const std::string& path) {
  FileSettings out;
  toml::table tbl;
  try {
    tbl = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return Status::InvalidArgument("config file " + path + ": " + std::string(e.description()));
  }
  for (auto&& [k, v] : tbl) {
    const std::string key(k.str());
    if (key == "servers") {
      Result<std::vector<ServerOptions>> servers = ServersFromToml(v);
      if (!servers.ok()) {
        return Status::InvalidArgument("config file " + path + ": " + servers.status().message());
      }
      out.servers = std::move(servers).value();
    } else if (v.is_string()) {
      out.values[key] = *v.value<std::string>();
    } else if (v.is_boolean()) {
      out.values[key] = *v.value<bool>() ? "true" : "false";
    } else if (v.is_integer()) {
      out.values[key] = std::to_string(*v.value<int64_t>());
    } else {
      return Status::InvalidArgument("config file " + path + ": key " + key +
                                     " must be a string, integer or boolean");
    }
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
  if (name == "audit-databases") a.databases = server::SplitList(raw);
  if (name == "audit-notification-url") a.notification_url = raw;
  if (name == "audit-notification-username") a.notification_username = raw;
  if (name == "audit-notification-password") a.notification_password = raw;
  if (name == "servername") o.tls.server_name = raw;
  if (name == "certificate") o.tls.client_cert = raw;
  if (name == "pkey") o.tls.client_key = raw;
  if (name == "clientcas") o.tls.ca_cert = raw;
  return Status::OK();
}

// The further servers: every --server flag, else IMMUGW_SERVERS, else the
// file's `servers`, else none.
Status ApplyServers(const server::CommandLine& cmd, const FileSettings& file, GatewayCommand* out) {
  std::string source = "flag --server";
  Result<std::vector<ServerOptions>> servers = std::vector<ServerOptions>();
  if (auto f = cmd.flags.find("server"); f != cmd.flags.end()) {
    std::vector<ServerOptions> list;
    for (const std::string& text : f->second) {
      Result<ServerOptions> s = ParseServer(text);
      if (!s.ok()) {
        servers = s.status();
        break;
      }
      list.push_back(std::move(s).value());
    }
    if (servers.ok()) servers = std::move(list);
  } else if (auto e = cmd.env.find("IMMUGW_SERVERS"); e != cmd.env.end()) {
    source = "environment IMMUGW_SERVERS";
    servers = ParseServerList(e->second);
  } else if (file.servers) {
    source = "config file " + cmd.config_path;
    servers = *file.servers;
  }
  if (servers.ok()) {
    out->options.servers = std::move(servers).value();
    Status st = CheckServers(out->options);
    if (st.ok()) return st;
    servers = st;
  }
  return Status::InvalidArgument("servers from " + source + ": " + servers.status().message());
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
  // After the table's flags, so that flags[i] stays Specs()[i].
  flags.push_back({"server", "", false, true,
                   std::string("a further immudb server, served under /servers/NAME: ") +
                       kServerSyntax + " (repeatable; env IMMUGW_SERVERS, toml servers)"});
  IMMUDB_ASSIGN_OR_RETURN(server::CommandLine cmd,
                          server::ParseCommandLine(Program(), flags, argc, argv, env));
  if (cmd.exit_now) {
    out.exit_now = true;
    out.output = cmd.output;
    return out;
  }
  FileSettings file;
  if (!cmd.config_path.empty()) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(cmd.config_path, ec)) {
      IMMUDB_ASSIGN_OR_RETURN(file, ReadToml(cmd.config_path));
      out.config = cmd.config_path;
    } else if (cmd.config_required) {
      return Status::InvalidArgument("config file not found: " + cmd.config_path);
    }
  }
  for (const auto& [key, value] : file.values) {
    const bool known = std::any_of(Specs().begin(), Specs().end(),
                                   [&key](const Spec& s) { return key == s.name; });
    if (!known) {
      return Status::InvalidArgument("config file " + cmd.config_path + ": unknown key " + key);
    }
  }

  for (size_t i = 0; i < Specs().size(); ++i) {
    const Spec& s = Specs()[i];
    IMMUDB_ASSIGN_OR_RETURN(std::optional<server::RawSetting> raw,
                            server::Lookup(Program(), flags[i], cmd, file.values));
    if (!raw) raw = server::RawSetting{s.def, "default"};
    IMMUDB_RETURN_IF_ERROR(Apply(s, raw->value, raw->source, &out));
  }
  IMMUDB_RETURN_IF_ERROR(ApplyServers(cmd, file, &out));
  return out;
}

}  // namespace immudb::gateway
