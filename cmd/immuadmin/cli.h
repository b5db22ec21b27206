// Shared pieces of the immuadmin commands: settings from flags and
// IMMUADMIN_* variables, the token file, connecting, and output helpers.
//
// Token file: $HOME/<tokenfile> (a plain name) or the path given, mode 0600,
// in immuclient's format (u64 big-endian length of the database name, the
// name, then the token). Commands throw Failure for errors; main prints
// "immuadmin: <message>" and exits 1.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>

#include "client/client.h"
#include "cmd/common/tls_flags.h"
#include "cmd/common/token_file.h"
#include "immudb/result.h"

namespace immudb::admin {

struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

template <class T>
T Must(Result<T> r) {
  if (!r.ok()) throw Failure(r.status().message());
  return std::move(r).value();
}
inline void Must(const Status& st) {
  if (!st.ok()) throw Failure(st.message());
}

struct Settings {
  std::string address = "127.0.0.1";
  int port = 3322;
  std::string tokenfile = "token_admin";
  std::string password;  // Login password; stdin when empty.
  std::string database;  // Database for dump/backup (--db).
  int metrics_port = 9497;
  cli::TlsFlags tls;  // --mtls and its certificates.

  std::string TokenPath() const;
};

using cli::HomeDir;
void SaveToken(const Settings& s, const std::string& db, const std::string& token);
// False when there is no token file.
bool LoadToken(const Settings& s, std::string* db, std::string* token);

// A client for the server (not logged in).
std::unique_ptr<client::Client> OpenClient(const Settings& s, bool large_messages = false);
// A client with the saved session; Failure "please login first" without one.
std::unique_ptr<client::Client> SessionClient(const Settings& s, bool large_messages = false);

// One line from stdin without the newline; Failure at end of input.
std::string ReadLine(const char* what);
// A password: on a terminal `prompt` goes to stderr and the typed text is
// not echoed; otherwise the next stdin line (Failure "no <what> given on
// stdin" at end of input).
std::string ReadPassword(const char* prompt, const char* what);
// The next stdin line for an optional password: false when stdin is not a
// terminal and has no more input (on a terminal it prompts as ReadPassword).
bool ReadOptionalPassword(const char* prompt, std::string* out);
// A new password for `user`, asked twice ("Choose a password for <user>:",
// "Confirm password:"): it must meet CheckStrongPassword and both must be
// equal (Failure "Passwords don't match"). `first` (optional) is a first
// entry already read.
std::string ReadNewPassword(const std::string& user, const std::string* first = nullptr);
// immudb's CLI password rule: 8-32 characters with an upper-case letter, a
// digit and a symbol. Failure with the rule otherwise.
void CheckStrongPassword(const std::string& password);

// "1.5 MiB"-style sizes and "2h3m4s"-style durations.
std::string HumanBytes(uint64_t n);
std::string HumanDuration(int64_t seconds);
// Bytes as text, with non-printable bytes as \xNN.
std::string Printable(const std::string& bytes);

// A progress bar on stderr, drawn only when stderr is a terminal (or when
// `always`); a total of 0 draws nothing.
class Progress {
 public:
  Progress(const char* what, uint64_t total, bool always = false)
      : what_(what), total_(total), tty_(always || ::isatty(STDERR_FILENO) == 1) {}
  void Update(uint64_t done) {
    if (!tty_ || total_ == 0) return;
    constexpr int kWidth = 40;
    const int filled = static_cast<int>(done * kWidth / total_);
    std::fprintf(stderr, "\r%s [%s%s] %llu/%llu tx", what_, std::string(filled, '#').c_str(),
                 std::string(kWidth - filled, ' ').c_str(), static_cast<unsigned long long>(done),
                 static_cast<unsigned long long>(total_));
    if (done == total_) std::fputc('\n', stderr);
    std::fflush(stderr);
  }

 private:
  const char* what_;
  uint64_t total_;
  bool tty_;
};

// ---- commands in their own files ----
// stats.cc: prints the server's metrics (raw, or a text summary).
void Stats(const Settings& s, bool raw);
// The live view: refreshes every `interval_ms` until 'q', Ctrl-C or
// `refreshes` frames (0: no limit): uptime, sessions, RPC rate, and per
// database committed txs, tx rate, indexed txs, index lag, size.
void StatsDashboard(const Settings& s, int64_t refreshes, int64_t interval_ms);
// transfer.cc
// Dump writes to stdout, or to `file` (created, must not exist) when given.
void Dump(const Settings& s, const std::string& file = "");
void Backup(const Settings& s, const std::string& file);
void Restore(const Settings& s, const std::string& file);

}  // namespace immudb::admin
