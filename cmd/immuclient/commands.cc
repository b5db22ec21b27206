#include "commands.h"

#include <cstdlib>
#include <iostream>
#include <memory>
#include <sstream>
#include <string_view>

#include "client/tampering.h"
#include "print.h"
#include "server/toml_settings.h"

namespace immuclient {
namespace {

using immudb::Result;
using immudb::Status;
using immudb::client::Client;
using immudb::client::Entry;
using immudb::client::IsTampering;

// Positional arguments of the parsed command (one command per parse).
struct Args {
  std::string a, b, c;
  uint64_t number = 0;
};

const std::vector<std::string>& Names() {
  static const std::vector<std::string> names = {"check-consistency",
                                                 "count",
                                                 "current",
                                                 "delete",
                                                 "get",
                                                 "health",
                                                 "history",
                                                 "info",
                                                 "login",
                                                 "logout",
                                                 "reference",
                                                 "restore",
                                                 "safeget",
                                                 "safereference",
                                                 "safeset",
                                                 "safetx",
                                                 "safezadd",
                                                 "scan",
                                                 "set",
                                                 "status",
                                                 "tx",
                                                 "use",
                                                 "version",
                                                 "zadd",
                                                 "zscan"};
  return names;
}

void Print(const std::string& text) { std::cout << text << std::flush; }

bool IsNotFound(const Status& st) {
  return !IsTampering(st) && st.message().find("not found") != std::string::npos;
}

// Errors after which --username/--password log in again and retry once.
bool NeedsLogin(const std::string& message) {
  return message.find("not logged in") != std::string::npos ||
         message.find("token has expired") != std::string::npos ||
         message.find("please select a database first") != std::string::npos;
}

// Runs `fn` with the session, logging in again once when the server says the
// session is gone and credentials were given.
template <class Fn>
void WithSession(Context& ctx, Fn fn) {
  Client& c = ctx.Session();
  try {
    fn(c);
  } catch (const Failure& f) {
    const Settings& s = ctx.settings();
    if (!NeedsLogin(f.what()) || s.username.empty() || s.password.empty()) throw;
    Must(c.Login(s.username, s.password));
    if (!s.database.empty()) Must(c.UseDatabase(s.database));
    fn(c);
  }
}

// "key@rev" -> key and revision; has_rev says whether a revision was given.
std::string SplitRevision(const Settings& s, const std::string& arg, int64_t* rev,
                          bool* has_rev = nullptr) {
  *rev = 0;
  if (has_rev != nullptr) *has_rev = false;
  size_t at = arg.rfind(s.revision_separator);
  if (s.revision_separator.empty() || at == std::string::npos) return arg;
  const std::string num = arg.substr(at + s.revision_separator.size());
  char* end = nullptr;
  long long v = std::strtoll(num.c_str(), &end, 10);
  if (num.empty() || *end != '\0') return arg;
  *rev = v;
  if (has_rev != nullptr) *has_rev = true;
  return arg.substr(0, at);
}

std::string ReadStdin() {
  std::stringstream buf;
  buf << std::cin.rdbuf();
  return buf.str();
}

// The optional last argument, or stdin when it was not given (command line
// only: interactive mode needs it on the line).
std::string ArgOrStdin(Context& ctx, CLI::App* cmd, const char* name, const std::string& value) {
  if (cmd->count(name) > 0) return value;
  if (ctx.interactive()) throw Failure(std::string("missing argument: ") + name);
  return ReadStdin();
}

double ParseScore(const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0') throw Failure("invalid score: " + text);
  return v;
}

CLI::App* Add(CLI::App& app, const char* name, const char* help,
              std::initializer_list<const char*> aliases = {}) {
  CLI::App* c = app.add_subcommand(name, help);
  for (const char* a : aliases) c->alias(a);
  return c;
}

void AddSessionCommands(CLI::App& app, Context& ctx, std::shared_ptr<Args> args) {
  CLI::App* login =
      Add(app, "login", "log in as username, else --username (password from --password or stdin)",
          {"l"});
  login->add_option("username", args->a, "user to log in as (default --username)");
  login->callback([&ctx, args] {
    const Settings& s = ctx.settings();
    // As immudb's: the argument, else --username.
    const std::string user = !args->a.empty() ? args->a : s.username;
    if (user.empty()) throw Failure("please specify a username (login <username> or --username)");
    std::string password = s.password.empty() ? ReadSecret("Password:") : s.password;
    Client& c = ctx.Connection();
    std::string warning;
    Must(c.Login(user, password, &warning));
    if (!s.database.empty()) Must(c.UseDatabase(s.database));
    ctx.SaveToken(c.database(), c.token());
    Print("Successfully logged in\n");
    if (!warning.empty()) Print(warning + "\n");
  });

  CLI::App* logout = Add(app, "logout", "log out", {"x"});
  logout->callback([&ctx] {
    std::string db, token;
    if (!ctx.LoadToken(&db, &token)) {
      Print("User not logged in\n");
      return;
    }
    Client& c = ctx.Connection();
    c.SetSession(token, db);
    Status st = c.Logout();
    ctx.RemoveToken();
    c.SetSession("", "defaultdb");
    Must(st);
    Print("Successfully logged out\n");
  });

  CLI::App* use = Add(app, "use", "select a database");
  use->add_option("database", args->a)->required();
  use->callback([&ctx, args] {
    Client& c = ctx.Session();
    Must(c.UseDatabase(args->a));
    ctx.SaveToken(args->a, c.token());
    Print("Now using " + args->a + "\n");
  });
}

void AddWriteCommands(CLI::App& app, Context& ctx, std::shared_ptr<Args> args) {
  CLI::App* set = Add(app, "set", "set key value (value from stdin when omitted)", {"s"});
  CLI::App* safeset = Add(app, "safeset", "set key value, verified", {"ss"});
  for (CLI::App* c : {set, safeset}) {
    c->add_option("key", args->a)->required();
    c->add_option("value", args->b, "value (stdin when omitted)");
  }
  set->callback([&ctx, args, set] {
    const std::string value = ArgOrStdin(ctx, set, "value", args->b);
    WithSession(ctx, [&](Client& c) {
      auto h = Must(c.Set(args->a, value));
      immudb::client::ReadOptions opts;
      opts.since_tx = h.id;
      Print(FormatKV(Must(c.Get(args->a, opts)), false, ctx.settings().value_only));
    });
  });
  safeset->callback([&ctx, args, safeset] {
    const std::string value = ArgOrStdin(ctx, safeset, "value", args->b);
    WithSession(ctx, [&](Client& c) {
      Must(c.VerifiedSet(args->a, value));
      Print(FormatKV(Must(c.VerifiedGet(args->a)), true, ctx.settings().value_only));
    });
  });

  CLI::App* restore = Add(app, "restore", "set a key to its value at key@revision again");
  restore->add_option("key@revision", args->a)->required();
  restore->callback([&ctx, args] {
    immudb::client::ReadOptions opts;
    bool has_rev = false;
    const std::string key = SplitRevision(ctx.settings(), args->a, &opts.at_revision, &has_rev);
    if (!has_rev) throw Failure("please specify the key with revision to restore");
    if (opts.at_revision == 0) throw Failure("can not restore current revision");
    WithSession(ctx, [&](Client& c) {
      Result<Entry> old = c.Get(key, opts);
      if (!old.ok() && IsNotFound(old.status())) {
        Print("key not found: " + key + "\n");
        return;
      }
      auto h = Must(c.Set(key, Must(std::move(old)).value));
      immudb::client::ReadOptions since;
      since.since_tx = h.id;
      Print(FormatKV(Must(c.Get(key, since)), false, ctx.settings().value_only));
    });
  });

  CLI::App* del = Add(app, "delete", "delete a key (logically)", {"del"});
  del->add_option("key", args->a)->required();
  del->callback([&ctx, args] {
    WithSession(ctx, [&](Client& c) {
      Result<immudb::TxHeader> h = c.Delete(args->a);
      if (!h.ok() && IsNotFound(h.status())) {
        Print("key not found: " + args->a + "\n");
        return;
      }
      Must(std::move(h));
      Print("key successfully deleted\n");
    });
  });

  CLI::App* ref = Add(app, "reference", "make refkey refer to key", {"r"});
  CLI::App* saferef = Add(app, "safereference", "make refkey refer to key, verified", {"sr"});
  for (CLI::App* c : {ref, saferef}) {
    c->add_option("refkey", args->a)->required();
    c->add_option("key", args->b, "referenced key (stdin when omitted)");
  }
  for (CLI::App* cmd : {ref, saferef}) {
    const bool verified = cmd == saferef;
    cmd->callback([&ctx, args, cmd, verified] {
      const std::string key = ArgOrStdin(ctx, cmd, "key", args->b);
      WithSession(ctx, [&](Client& c) {
        auto h = verified ? c.VerifiedSetReference(args->a, key) : c.SetReference(args->a, key);
        Entry e;
        e.tx = Must(std::move(h)).id;
        e.key = args->a;
        e.value = key;
        Print(FormatKV(e, verified, false));
      });
    });
  }

  CLI::App* zadd = Add(app, "zadd", "add key with score to a sorted set", {"za"});
  CLI::App* safezadd =
      Add(app, "safezadd", "add key with score to a sorted set, verified", {"sza"});
  for (CLI::App* cmd : {zadd, safezadd}) {
    cmd->add_option("setname", args->a)->required();
    cmd->add_option("score", args->c)->required();
    cmd->add_option("key", args->b)->required();
    const bool verified = cmd == safezadd;
    cmd->callback([&ctx, args, verified] {
      const double score = ParseScore(args->c);
      WithSession(ctx, [&](Client& c) {
        auto h =
            verified ? c.VerifiedZAdd(args->a, score, args->b) : c.ZAdd(args->a, score, args->b);
        Print(FormatSetItem(args->a, args->b, score, Must(std::move(h)), verified));
      });
    });
  }
}

void AddReadCommands(CLI::App& app, Context& ctx, std::shared_ptr<Args> args) {
  CLI::App* get = Add(app, "get", "get key[@revision]", {"g"});
  CLI::App* safeget = Add(app, "safeget", "get key[@revision], verified", {"sg"});
  for (CLI::App* cmd : {get, safeget}) {
    cmd->add_option("key", args->a)->required();
    const bool verified = cmd == safeget;
    cmd->callback([&ctx, args, verified] {
      immudb::client::ReadOptions opts;
      const std::string key = SplitRevision(ctx.settings(), args->a, &opts.at_revision);
      WithSession(ctx, [&](Client& c) {
        Result<Entry> e = verified ? c.VerifiedGet(key, opts) : c.Get(key, opts);
        if (!e.ok() && IsNotFound(e.status())) {
          Print("key not found: " + key + "\n");
          return;
        }
        Print(FormatKV(Must(std::move(e)), verified, ctx.settings().value_only));
      });
    });
  }

  CLI::App* history = Add(app, "history", "all values of a key", {"h"});
  history->add_option("key", args->a)->required();
  history->callback([&ctx, args] {
    WithSession(ctx, [&](Client& c) {
      Print(FormatEntries(Must(c.History(args->a)), ctx.settings().value_only));
    });
  });

  CLI::App* scan = Add(app, "scan", "entries whose key starts with prefix", {"scn"});
  scan->add_option("prefix", args->a);
  scan->callback([&ctx, args] {
    WithSession(ctx, [&](Client& c) {
      Print(FormatEntries(Must(c.Scan(args->a)), ctx.settings().value_only));
    });
  });

  CLI::App* zscan = Add(app, "zscan", "members of a sorted set by score", {"zscn"});
  zscan->add_option("setname", args->a)->required();
  zscan->callback([&ctx, args] {
    WithSession(ctx, [&](Client& c) {
      std::vector<Entry> entries;
      for (auto& z : Must(c.ZScan(args->a))) entries.push_back(std::move(z.entry));
      Print(FormatEntries(entries, ctx.settings().value_only));
    });
  });

  CLI::App* count = Add(app, "count", "number of keys with a prefix", {"cnt"});
  count->add_option("prefix", args->a)->required();
  count->callback([&ctx, args] {
    WithSession(ctx, [&](Client& c) { Print(std::to_string(Must(c.Count(args->a))) + "\n"); });
  });

  CLI::App* tx = Add(app, "tx", "a transaction by id", {"getByIndex", "gettx"});
  CLI::App* safetx = Add(app, "safetx", "a transaction by id, verified", {"stx"});
  for (CLI::App* cmd : {tx, safetx}) {
    cmd->add_option("id", args->number)->required();
    const bool verified = cmd == safetx;
    cmd->callback([&ctx, args, verified] {
      WithSession(ctx, [&](Client& c) {
        Result<immudb::Tx> t = verified ? c.VerifiedTxById(args->number) : c.TxById(args->number);
        if (!t.ok() && IsNotFound(t.status())) {
          Print("no item exists in id:" + std::to_string(args->number) + "\n");
          return;
        }
        Print(FormatTx(Must(std::move(t)), verified));
      });
    });
  }
}

void AddStateCommands(CLI::App& app, Context& ctx, std::shared_ptr<Args> args) {
  CLI::App* current = Add(app, "current", "the server's current state", {"crt", "state"});
  current->callback(
      [&ctx] { WithSession(ctx, [&](Client& c) { Print(FormatState(Must(c.CurrentState()))); }); });

  CLI::App* check = Add(app, "check-consistency",
                        "check that tx index with hash is on the server's chain", {"c"});
  check->add_option("index", args->number)->required();
  check->add_option("hash", args->a)->required();
  check->callback([&ctx, args] {
    immudb::Hash alh;
    if (!immudb::HashFromHex(args->a, &alh)) {
      throw Failure("invalid hash: want 64 hex digits, got '" + args->a + "'");
    }
    WithSession(ctx, [&](Client& c) {
      auto state = Must(c.CheckConsistency(args->number, alh));
      Print("tx " + std::to_string(args->number) + " is consistent with the server's state\n" +
            FormatState(state) + "verified:  true\n");
    });
  });

  CLI::App* health = Add(app, "health", "pending requests and time of the last one");
  health->callback([&ctx] {
    WithSession(ctx, [&](Client& c) { Print(FormatHealth(Must(c.DatabaseHealth()))); });
  });

  CLI::App* status = Add(app, "status", "check that the server answers", {"p"});
  status->callback([&ctx] {
    Must(ctx.Connection().Health());
    Print("Health check OK\n");
  });

  CLI::App* info = Add(app, "info", "server version");
  info->callback([&ctx] {
    WithSession(ctx, [&](Client& c) { Print("version:\t" + Must(c.ServerVersion()) + "\n"); });
  });

  CLI::App* version = Add(app, "version", "client version");
  version->callback([] { Print(std::string("immuclient ") + IMMUDB_VERSION + "\n"); });
}

}  // namespace

void AddGlobalFlags(CLI::App& app, Settings& s) {
  auto env = [](CLI::Option* o, const char* name) { o->envname(name); };
  env(app.add_option("-a,--immudb-address", s.address, "server address"),
      "IMMUCLIENT_IMMUDB_ADDRESS");
  env(app.add_option("-p,--immudb-port", s.port, "server port"), "IMMUCLIENT_IMMUDB_PORT");
  env(app.add_option("--username", s.username, "log in as this user when needed"),
      "IMMUCLIENT_USERNAME");
  env(app.add_option("--password", s.password, "password for login / --username"),
      "IMMUCLIENT_PASSWORD");
  env(app.add_option("--database", s.database, "database to use after an automatic login"),
      "IMMUCLIENT_DATABASE");
  env(app.add_option("--tokenfile", s.tokenfile, "token file (a plain name is under $HOME)"),
      "IMMUCLIENT_TOKENFILE");
  env(app.add_option("--dir", s.dir, "directory of the trusted-state file (default $HOME)"),
      "IMMUCLIENT_DIR");
  env(app.add_option("--server-signing-pub-key", s.pub_key, "PEM public key of the server"),
      "IMMUCLIENT_SERVER_SIGNING_PUB_KEY");
  env(app.add_option("--revision-separator", s.revision_separator, "separator of key@rev"),
      "IMMUCLIENT_REVISION_SEPARATOR");
  env(app.add_option("--max-recv-msg-size", s.max_recv_msg_size, "largest reply in bytes")
          ->check(CLI::PositiveNumber),
      "IMMUCLIENT_MAX_RECV_MSG_SIZE");
  env(app.add_flag("--value-only", s.value_only, "print only values"), "IMMUCLIENT_VALUE_ONLY");
  immudb::cli::AddTlsFlags(app, s.tls, "IMMUCLIENT");
  // Read before parsing (ApplyConfigFile); declared so that parsing accepts it.
  app.add_option("--config", "settings file (immuclient.toml: flag = value)");
}

std::string ApplyConfigFile(const CLI::App& app, int argc, char** argv) {
  std::string path;
  if (const char* e = std::getenv("IMMUCLIENT_CONFIG")) path = e;
  for (int i = 1; i < argc; i++) {
    const std::string_view a = argv[i];
    if (a == "--config" && i + 1 < argc) path = argv[++i];
    if (a.starts_with("--config=")) path = std::string(a.substr(9));
  }
  if (path.empty()) return "";
  auto settings = immudb::server::ReadTomlSettings(path);
  if (!settings.ok()) return settings.status().message();
  for (const auto& [key, value] : *settings) {
    const CLI::Option* opt = app.get_option_no_throw("--" + key);
    if (opt == nullptr || opt->get_envname().empty() || key == "config") {
      return "config file " + path + ": unknown setting '" + key + "'";
    }
    // As the flag's variable, unless the environment sets it: the command
    // line still wins over both.
    setenv(opt->get_envname().c_str(), value.c_str(), /*overwrite=*/0);
  }
  return "";
}

void AddCommands(CLI::App& app, Context& ctx) {
  auto args = std::make_shared<Args>();
  AddSessionCommands(app, ctx, args);
  AddWriteCommands(app, ctx, args);
  AddReadCommands(app, ctx, args);
  AddStateCommands(app, ctx, args);
}

std::vector<std::string> CommandNames() { return Names(); }

}  // namespace immuclient
