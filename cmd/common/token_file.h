// The session token file immuadmin and immuclient share, in the layout
// immudb's own CLIs write: u64 big-endian length of the database name, the
// name, then the token; mode 0600. Header-only.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "immudb/result.h"

namespace immudb::cli {

// $HOME, or "." when it is unset or empty.
inline std::string HomeDir() {
  const char* home = std::getenv("HOME");
  return home != nullptr && *home != '\0' ? home : ".";
}

// $HOME/<name> for a plain file name, else `name` as given.
inline std::string TokenFilePath(const std::string& name) {
  return name.find('/') == std::string::npos ? HomeDir() + "/" + name : name;
}

// Writes (replaces) the token file at `path`; IOError "cannot write token
// file <path>" when it cannot.
inline Status WriteTokenFile(const std::string& path, const std::string& db,
                             const std::string& token) {
  std::string data;
  for (int i = 7; i >= 0; --i) data.push_back(static_cast<char>((db.size() >> (8 * i)) & 0xff));
  data += db + token;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || ::fchmod(fd, 0600) != 0 ||
      ::write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size())) {
    if (fd >= 0) ::close(fd);
    return Status::IOError("cannot write token file " + path);
  }
  ::close(fd);
  return Status::OK();
}

// Reads the token file at `path` into *db and *token: false when there is
// no such file, InvalidArgument "malformed token file <path>" when its
// layout is wrong.
inline Result<bool> ReadTokenFile(const std::string& path, std::string* db, std::string* token) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string data = buf.str();
  if (data.size() < 8) return Status::InvalidArgument("malformed token file " + path);
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n = (n << 8) | static_cast<uint8_t>(data[i]);
  if (n > data.size() - 8) return Status::InvalidArgument("malformed token file " + path);
  *db = data.substr(8, n);
  *token = data.substr(8 + n);
  return true;
}

}  // namespace immudb::cli
