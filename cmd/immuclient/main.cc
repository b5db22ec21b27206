// immuclient: the immudb command-line client (wire-api.md §11.1).
//
// Non-interactive commands: login, logout, use, set, get, safeset, safeget,
// history, scan, count, tx, safetx, current (state), status, version. Flags
// may also come from IMMUCLIENT_* environment variables (IMMUCLIENT_PASSWORD,
// IMMUCLIENT_IMMUDB_PORT, ...). The session token lives in the token file
// ($HOME/<tokenfile>, or the path given) and trusted states in --dir (default
// $HOME); both files have mode 0600. Token file format, as immudb's Go client:
// u64 big-endian length of the database name, the name, then the token.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include "client/client.h"
#include "client/tampering.h"

namespace {

using immudb::Result;
using immudb::Status;
using immudb::client::Client;
using immudb::client::Entry;

// A failed command: printed as "immuclient: <message>", exit code 1.
struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

template <class T>
T Must(Result<T> r) {
  if (!r.ok()) throw Failure(r.status().message());
  return std::move(r).value();
}
void Must(const Status& st) {
  if (!st.ok()) throw Failure(st.message());
}

std::string HomeDir() {
  const char* home = std::getenv("HOME");
  return home != nullptr && *home != '\0' ? home : ".";
}

struct Settings {
  std::string address = "127.0.0.1";
  int port = 3322;
  std::string username;
  std::string password;
  std::string database;
  std::string tokenfile = "token";
  std::string dir;
  std::string pub_key;
  std::string revision_separator = "@";
  bool value_only = false;

  std::string TokenPath() const {
    return tokenfile.find('/') == std::string::npos ? HomeDir() + "/" + tokenfile : tokenfile;
  }
};

void SaveToken(const Settings& s, const std::string& db, const std::string& token) {
  std::string data;
  for (int i = 7; i >= 0; --i) data.push_back(static_cast<char>((db.size() >> (8 * i)) & 0xff));
  data += db + token;
  const std::string path = s.TokenPath();
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || ::fchmod(fd, 0600) != 0 ||
      ::write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size())) {
    if (fd >= 0) ::close(fd);
    throw Failure("cannot write token file " + path);
  }
  ::close(fd);
}

// False when there is no token file.
bool LoadToken(const Settings& s, std::string* db, std::string* token) {
  std::ifstream in(s.TokenPath(), std::ios::binary);
  if (!in) return false;
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string data = buf.str();
  if (data.size() < 8) throw Failure("malformed token file " + s.TokenPath());
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n = (n << 8) | static_cast<uint8_t>(data[i]);
  if (n > data.size() - 8) throw Failure("malformed token file " + s.TokenPath());
  *db = data.substr(8, n);
  *token = data.substr(8 + n);
  return true;
}

std::unique_ptr<Client> Open(const Settings& s) {
  immudb::client::Options o;
  o.address = s.address;
  o.port = s.port;
  o.state_dir = s.dir.empty() ? HomeDir() : s.dir;
  o.server_signing_pub_key = s.pub_key;
  return Must(Client::Open(o));
}

// A client with the saved session, or one logged in with --username and
// --password when there is none.
std::unique_ptr<Client> Session(const Settings& s) {
  auto c = Open(s);
  std::string db, token;
  if (LoadToken(s, &db, &token)) {
    c->SetSession(token, db);
  } else if (!s.username.empty() && !s.password.empty()) {
    Must(c->Login(s.username, s.password));
    if (!s.database.empty()) Must(c->UseDatabase(s.database));
  }
  return c;
}

std::string Metadata(const immudb::KVMetadata& md) {
  std::string out = "{";
  auto add = [&out](const std::string& part) { out += (out.size() > 1 ? ", " : "") + part; };
  if (md.deleted) add("deleted: true");
  if (md.expires_at) add("expiresAt: " + std::to_string(*md.expires_at));
  if (md.non_indexable) add("nonIndexable: true");
  return out + "}";
}

void PrintKV(const Settings& s, const Entry& e, bool verified) {
  if (s.value_only) {
    std::cout << e.value << "\n";
    return;
  }
  std::cout << "tx:       " << e.tx << "\n";
  if (e.revision != 0) std::cout << "rev:      " << e.revision << "\n";
  std::cout << "key:      " << e.key << "\n";
  if (!e.md.empty()) std::cout << "metadata: " << Metadata(e.md) << "\n";
  std::cout << "value:    " << e.value << "\n";
  if (verified) std::cout << "verified: true\n";
}

void PrintEntries(const Settings& s, const std::vector<Entry>& entries) {
  if (entries.empty()) {
    std::cout << "no entries\n";
    return;
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i > 0 && !s.value_only) std::cout << "\n";
    PrintKV(s, entries[i], false);
  }
}

void PrintTx(const immudb::Tx& tx, bool verified) {
  char when[64];
  const time_t ts = static_cast<time_t>(tx.header.ts);
  struct tm tm_buf;
  std::strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %z %Z", localtime_r(&ts, &tm_buf));
  std::cout << "tx:       " << tx.header.id << "\n"
            << "time:     " << when << "\n"
            << "entries:  " << tx.header.nentries << "\n"
            << "hash:     " << immudb::ToHex(Must(tx.header.Alh())) << "\n";
  if (verified) std::cout << "verified: true\n";
}

// "key@rev" -> key and revision (0 when absent or not a number).
std::string SplitRevision(const Settings& s, const std::string& arg, int64_t* rev) {
  *rev = 0;
  size_t at = arg.rfind(s.revision_separator);
  if (s.revision_separator.empty() || at == std::string::npos) return arg;
  const std::string num = arg.substr(at + s.revision_separator.size());
  char* end = nullptr;
  long long v = std::strtoll(num.c_str(), &end, 10);
  if (num.empty() || *end != '\0') return arg;
  *rev = v;
  return arg.substr(0, at);
}

std::string ReadStdin() {
  std::stringstream buf;
  buf << std::cin.rdbuf();
  return buf.str();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"immuclient: the immudb command-line client"};
  app.require_subcommand(1);
  Settings s;
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
  env(app.add_flag("--value-only", s.value_only, "print only values"), "IMMUCLIENT_VALUE_ONLY");

  std::string arg1, arg2;
  uint64_t number = 0;
  auto* login = app.add_subcommand("login", "log in")->alias("l");
  login->add_option("username", arg1)->required();
  auto* logout = app.add_subcommand("logout", "log out")->alias("x");
  auto* use = app.add_subcommand("use", "select a database");
  use->add_option("database", arg1)->required();
  auto* set = app.add_subcommand("set", "set a key")->alias("s");
  auto* safeset = app.add_subcommand("safeset", "set a key, verified")->alias("ss");
  for (auto* c : {set, safeset}) {
    c->add_option("key", arg1)->required();
    c->add_option("value", arg2, "value (stdin when omitted)");
  }
  auto* get = app.add_subcommand("get", "get key[@rev]")->alias("g");
  auto* safeget = app.add_subcommand("safeget", "get key[@rev], verified")->alias("sg");
  auto* history = app.add_subcommand("history", "all versions of a key")->alias("h");
  for (auto* c : {get, safeget, history}) c->add_option("key", arg1)->required();
  auto* scan = app.add_subcommand("scan", "entries with a prefix")->alias("scn");
  scan->add_option("prefix", arg1);
  auto* count = app.add_subcommand("count", "number of keys with a prefix")->alias("cnt");
  count->add_option("prefix", arg1)->required();
  auto* tx = app.add_subcommand("tx", "a transaction by id")->alias("getByIndex");
  auto* safetx = app.add_subcommand("safetx", "a transaction by id, verified")->alias("stx");
  for (auto* c : {tx, safetx}) c->add_option("id", number)->required();
  auto* current = app.add_subcommand("current", "current state")->alias("crt")->alias("state");
  auto* status = app.add_subcommand("status", "server health")->alias("p");
  auto* version = app.add_subcommand("version", "client version");

  CLI11_PARSE(app, argc, argv);

  try {
    if (version->parsed()) {
      std::cout << "immuclient " << IMMUDB_VERSION << "\n";
    } else if (status->parsed()) {
      Must(Open(s)->Health());
      std::cout << "Health check OK\n";
    } else if (login->parsed()) {
      std::string password = s.password;
      if (password.empty()) std::getline(std::cin, password);
      auto c = Open(s);
      std::string warning;
      Must(c->Login(arg1, password, &warning));
      if (!s.database.empty()) Must(c->UseDatabase(s.database));
      SaveToken(s, c->database(), c->token());
      std::cout << "Successfully logged in\n";
      if (!warning.empty()) std::cout << warning << "\n";
    } else if (logout->parsed()) {
      std::string db, token;
      if (!LoadToken(s, &db, &token)) {
        std::cout << "User not logged in\n";
        return 0;
      }
      auto c = Open(s);
      c->SetSession(token, db);
      Status st = c->Logout();
      ::unlink(s.TokenPath().c_str());
      Must(st);
      std::cout << "Successfully logged out\n";
    } else {
      auto c = Session(s);
      if (use->parsed()) {
        Must(c->UseDatabase(arg1));
        SaveToken(s, arg1, c->token());
        std::cout << "Now using " << arg1 << "\n";
      } else if (set->parsed() || safeset->parsed()) {
        const std::string value =
            set->count("value") + safeset->count("value") > 0 ? arg2 : ReadStdin();
        if (set->parsed()) {
          auto h = Must(c->Set(arg1, value));
          immudb::client::ReadOptions opts;
          opts.since_tx = h.id;
          PrintKV(s, Must(c->Get(arg1, opts)), false);
        } else {
          Must(c->VerifiedSet(arg1, value));
          PrintKV(s, Must(c->VerifiedGet(arg1)), true);
        }
      } else if (get->parsed() || safeget->parsed()) {
        immudb::client::ReadOptions opts;
        const std::string key = SplitRevision(s, arg1, &opts.at_revision);
        Result<Entry> e = get->parsed() ? c->Get(key, opts) : c->VerifiedGet(key, opts);
        if (!e.ok() && !immudb::client::IsTampering(e.status()) &&
            e.status().message().find("key not found") != std::string::npos) {
          std::cout << "key not found: " << key << "\n";
        } else {
          PrintKV(s, Must(std::move(e)), safeget->parsed());
        }
      } else if (history->parsed()) {
        PrintEntries(s, Must(c->History(arg1)));
      } else if (scan->parsed()) {
        PrintEntries(s, Must(c->Scan(arg1)));
      } else if (count->parsed()) {
        std::cout << Must(c->Count(arg1)) << "\n";
      } else if (tx->parsed()) {
        PrintTx(Must(c->TxById(number)), false);
      } else if (safetx->parsed()) {
        PrintTx(Must(c->VerifiedTxById(number)), true);
      } else if (current->parsed()) {
        auto st = Must(c->CurrentState());
        if (st.tx_id == 0) {
          std::cout << "database '" << st.db << "' is empty\n";
        } else {
          std::cout << "database:  " << st.db << "\ntxID:      " << st.tx_id
                    << "\nhash:      " << immudb::ToHex(st.tx_hash) << "\n";
        }
      }
    }
  } catch (const Failure& f) {
    std::cerr << "immuclient: " << f.what() << "\n";
    return 1;
  }
  return 0;
}
