// The state immuclient's commands share: global flags, the session (token
// file) and the open Client. One Context lives for the whole process; in
// interactive mode every line runs against it, so a login on one line is the
// session of the next.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "client/client.h"
#include "cmd/common/tls_flags.h"
#include "immudb/result.h"

namespace immuclient {

// A failed command: reported as "immuclient: <message>" (or "ERROR: <message>"
// in interactive mode) with exit code 1.
struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

template <class T>
T Must(immudb::Result<T> r) {
  if (!r.ok()) throw Failure(r.status().message());
  return std::move(r).value();
}
inline void Must(const immudb::Status& st) {
  if (!st.ok()) throw Failure(st.message());
}

// Global flags (wire-api.md §11.1), also read from IMMUCLIENT_* variables.
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
  int max_recv_msg_size = 4 << 20;
  immudb::cli::TlsFlags tls;  // --mtls and its certificates.

  // $HOME/<tokenfile> for a plain name, else the path as given.
  std::string TokenPath() const;
};

class Context {
 public:
  explicit Context(bool interactive) : interactive_(interactive) {}

  Settings& settings() { return settings_; }
  bool interactive() const { return interactive_; }
  void set_interactive(bool v) { interactive_ = v; }

  // A client for the current settings (reused while they do not change).
  immudb::client::Client& Connection();
  // Connection() with the saved session, or logged in with --username and
  // --password (then --database) when there is no token file.
  immudb::client::Client& Session();

  void SaveToken(const std::string& db, const std::string& token);
  // False when there is no token file; Failure when it is malformed.
  bool LoadToken(std::string* db, std::string* token);
  void RemoveToken();

 private:
  Settings settings_;
  bool interactive_;
  std::unique_ptr<immudb::client::Client> client_;
  std::string client_key_;  // The settings client_ was opened with.
};

// Reads one line from stdin; on a terminal prints `prompt` to stderr and
// turns echo off while the line is typed.
std::string ReadSecret(const std::string& prompt);

}  // namespace immuclient
