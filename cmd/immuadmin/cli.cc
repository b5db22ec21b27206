#include "cmd/immuadmin/cli.h"

#include <termios.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <iostream>

namespace immudb::admin {

std::string Settings::TokenPath() const { return cli::TokenFilePath(tokenfile); }

void SaveToken(const Settings& s, const std::string& db, const std::string& token) {
  Must(cli::WriteTokenFile(s.TokenPath(), db, token));
}

bool LoadToken(const Settings& s, std::string* db, std::string* token) {
  return Must(cli::ReadTokenFile(s.TokenPath(), db, token));
}

std::unique_ptr<client::Client> OpenClient(const Settings& s, bool large_messages) {
  client::Options o;
  o.address = s.address;
  o.port = s.port;
  o.state_dir = HomeDir();
  s.tls.ApplyTo(&o);
  if (large_messages) {
    o.max_recv_msg_size = 1 << 30;
    o.timeout = std::chrono::milliseconds(600000);
  }
  return Must(client::Client::Open(o));
}

std::unique_ptr<client::Client> SessionClient(const Settings& s, bool large_messages) {
  std::string db, token;
  if (!LoadToken(s, &db, &token)) throw Failure("please login first");
  auto c = OpenClient(s, large_messages);
  c->SetSession(token, db);
  return c;
}

std::string ReadLine(const char* what) {
  std::string line;
  if (!std::getline(std::cin, line)) throw Failure(std::string("no ") + what + " given on stdin");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

namespace {

bool StdinIsTerminal() { return ::isatty(STDIN_FILENO) == 1; }

// One line from the terminal with echo off, after `prompt` on stderr.
bool ReadHidden(const char* prompt, std::string* out) {
  std::cerr << prompt << " " << std::flush;
  termios old_mode{};
  const bool restore = ::tcgetattr(STDIN_FILENO, &old_mode) == 0;
  if (restore) {
    termios quiet = old_mode;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  const bool ok = static_cast<bool>(std::getline(std::cin, *out));
  if (restore) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &old_mode);
  std::cerr << "\n";
  if (ok && !out->empty() && out->back() == '\r') out->pop_back();
  return ok;
}

}  // namespace

std::string ReadPassword(const char* prompt, const char* what) {
  if (!StdinIsTerminal()) return ReadLine(what);
  std::string line;
  if (!ReadHidden(prompt, &line)) throw Failure(std::string("no ") + what + " given");
  return line;
}

bool ReadOptionalPassword(const char* prompt, std::string* out) {
  if (StdinIsTerminal()) return ReadHidden(prompt, out);
  if (!std::getline(std::cin, *out)) return false;
  if (!out->empty() && out->back() == '\r') out->pop_back();
  return true;
}

std::string ReadNewPassword(const std::string& user, const std::string* first) {
  const std::string prompt = "Choose a password for " + user + ":";
  const std::string password = first != nullptr ? *first : ReadPassword(prompt.c_str(), "password");
  CheckStrongPassword(password);
  if (ReadPassword("Confirm password:", "password confirmation") != password) {
    throw Failure("Passwords don't match");
  }
  return password;
}

void CheckStrongPassword(const std::string& p) {
  bool upper = false, digit = false, symbol = false;
  for (unsigned char ch : p) {
    upper |= std::isupper(ch) != 0;
    digit |= std::isdigit(ch) != 0;
    symbol |= std::ispunct(ch) != 0;
  }
  if (p.size() < 8 || p.size() > 32 || !upper || !digit || !symbol) {
    throw Failure(
        "password does not meet the requirements. It must contain upper and lower case letters, "
        "digits, punctuation mark or symbol, and be 8 to 32 characters long");
  }
}

std::string HumanBytes(uint64_t n) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), u == 0 ? "%.0f %s" : "%.1f %s", v, kUnits[u]);
  return buf;
}

std::string HumanDuration(int64_t seconds) {
  if (seconds < 0) seconds = 0;
  std::string out;
  const int64_t d = seconds / 86400, h = seconds / 3600 % 24, m = seconds / 60 % 60;
  if (d > 0) out += std::to_string(d) + "d";
  if (d > 0 || h > 0) out += std::to_string(h) + "h";
  if (d > 0 || h > 0 || m > 0) out += std::to_string(m) + "m";
  return out + std::to_string(seconds % 60) + "s";
}

std::string Printable(const std::string& bytes) {
  std::string out;
  for (unsigned char ch : bytes) {
    if (ch >= 0x20 && ch < 0x7f && ch != '\\') {
      out.push_back(static_cast<char>(ch));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", ch);
      out += buf;
    }
  }
  return out;
}

}  // namespace immudb::admin
