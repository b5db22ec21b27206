#include "context.h"

#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "cmd/common/token_file.h"

namespace immuclient {
namespace {

using immudb::client::Client;

using immudb::cli::HomeDir;

immudb::client::Options ClientOptions(const Settings& s) {
  immudb::client::Options o;
  o.address = s.address;
  o.port = s.port;
  o.state_dir = s.dir.empty() ? HomeDir() : s.dir;
  o.server_signing_pub_key = s.pub_key;
  o.max_recv_msg_size = s.max_recv_msg_size;
  s.tls.ApplyTo(&o);
  return o;
}

std::string Key(const immudb::client::Options& o) {
  return o.address + "\n" + std::to_string(o.port) + "\n" + o.state_dir + "\n" +
         o.server_signing_pub_key + "\n" + std::to_string(o.max_recv_msg_size) + "\n" +
         (o.tls.enabled ? "tls" : "plain") + "\n" + o.tls.server_name + "\n" + o.tls.ca_cert +
         "\n" + o.tls.client_cert + "\n" + o.tls.client_key;
}

}  // namespace

std::string Settings::TokenPath() const { return immudb::cli::TokenFilePath(tokenfile); }

Client& Context::Connection() {
  const immudb::client::Options o = ClientOptions(settings_);
  const std::string key = Key(o);
  if (client_ == nullptr || key != client_key_) {
    client_.reset();
    client_ = Must(Client::Open(o));
    client_key_ = key;
  }
  return *client_;
}

Client& Context::Session() {
  Client& c = Connection();
  std::string db, token;
  if (LoadToken(&db, &token)) {
    c.SetSession(token, db);
  } else if (!settings_.username.empty() && !settings_.password.empty()) {
    Must(c.Login(settings_.username, settings_.password));
    if (!settings_.database.empty()) Must(c.UseDatabase(settings_.database));
  } else {
    c.SetSession("", "defaultdb");
  }
  return c;
}

void Context::SaveToken(const std::string& db, const std::string& token) {
  Must(immudb::cli::WriteTokenFile(settings_.TokenPath(), db, token));
}

bool Context::LoadToken(std::string* db, std::string* token) {
  return Must(immudb::cli::ReadTokenFile(settings_.TokenPath(), db, token));
}

void Context::RemoveToken() { ::unlink(settings_.TokenPath().c_str()); }

std::string ReadSecret(const std::string& prompt) {
  std::string line;
  if (!::isatty(STDIN_FILENO)) {
    std::getline(std::cin, line);
    return line;
  }
  // Echo goes off before the prompt shows, so nothing typed after it echoes;
  // TCSANOW keeps what was typed ahead.
  termios old;
  const bool have_termios = ::tcgetattr(STDIN_FILENO, &old) == 0;
  if (have_termios) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::cerr << prompt << std::flush;
  std::getline(std::cin, line);
  if (have_termios) ::tcsetattr(STDIN_FILENO, TCSANOW, &old);
  std::cerr << "\n";
  return line;
}

}  // namespace immuclient
