#include "context.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

namespace immuclient {
namespace {

using immudb::client::Client;

std::string HomeDir() {
  const char* home = std::getenv("HOME");
  return home != nullptr && *home != '\0' ? home : ".";
}

immudb::client::Options ClientOptions(const Settings& s) {
  immudb::client::Options o;
  o.address = s.address;
  o.port = s.port;
  o.state_dir = s.dir.empty() ? HomeDir() : s.dir;
  o.server_signing_pub_key = s.pub_key;
  o.max_recv_msg_size = s.max_recv_msg_size;
  if (s.mtls) {
    o.tls.enabled = true;
    o.tls.server_name = s.servername;
    o.tls.ca_cert = s.clientcas;
    o.tls.client_cert = s.certificate;
    o.tls.client_key = s.pkey;
  }
  return o;
}

std::string Key(const immudb::client::Options& o) {
  return o.address + "\n" + std::to_string(o.port) + "\n" + o.state_dir + "\n" +
         o.server_signing_pub_key + "\n" + std::to_string(o.max_recv_msg_size) + "\n" +
         (o.tls.enabled ? "tls" : "plain") + "\n" + o.tls.server_name + "\n" + o.tls.ca_cert +
         "\n" + o.tls.client_cert + "\n" + o.tls.client_key;
}

}  // namespace

std::string Settings::TokenPath() const {
  return tokenfile.find('/') == std::string::npos ? HomeDir() + "/" + tokenfile : tokenfile;
}

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

// Token file, as immudb's Go client writes it: u64 big-endian length of the
// database name, the name, then the token; mode 0600.
void Context::SaveToken(const std::string& db, const std::string& token) {
  std::string data;
  for (int i = 7; i >= 0; --i) data.push_back(static_cast<char>((db.size() >> (8 * i)) & 0xff));
  data += db + token;
  const std::string path = settings_.TokenPath();
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || ::fchmod(fd, 0600) != 0 ||
      ::write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size())) {
    if (fd >= 0) ::close(fd);
    throw Failure("cannot write token file " + path);
  }
  ::close(fd);
}

bool Context::LoadToken(std::string* db, std::string* token) {
  const std::string path = settings_.TokenPath();
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string data = buf.str();
  if (data.size() < 8) throw Failure("malformed token file " + path);
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n = (n << 8) | static_cast<uint8_t>(data[i]);
  if (n > data.size() - 8) throw Failure("malformed token file " + path);
  *db = data.substr(8, n);
  *token = data.substr(8 + n);
  return true;
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
