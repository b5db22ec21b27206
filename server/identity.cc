#include "server/identity.h"

#include <openssl/rand.h>
#include <unistd.h>

#include <cstdint>
#include <ctime>
#include <filesystem>

#include "immudb/env.h"

namespace immudb::server {
namespace {

constexpr size_t kIdLen = 12;
constexpr char kFileName[] = "immudb.identifier";

// 4-byte big-endian time, 3 random "machine" bytes, 2 pid bytes, 3 random
// counter bytes: the layout of an xid.
Result<std::string> NewId() {
  std::string id(kIdLen, '\0');
  uint32_t now = static_cast<uint32_t>(std::time(nullptr));
  for (int i = 0; i < 4; ++i) id[i] = static_cast<char>(now >> (24 - 8 * i));
  unsigned char rnd[6];
  if (RAND_bytes(rnd, sizeof(rnd)) != 1) return Status::Internal("no random bytes for server id");
  id[4] = static_cast<char>(rnd[0]);
  id[5] = static_cast<char>(rnd[1]);
  id[6] = static_cast<char>(rnd[2]);
  uint32_t pid = static_cast<uint32_t>(getpid());
  id[7] = static_cast<char>(pid >> 8);
  id[8] = static_cast<char>(pid);
  id[9] = static_cast<char>(rnd[3]);
  id[10] = static_cast<char>(rnd[4]);
  id[11] = static_cast<char>(rnd[5]);
  return id;
}

}  // namespace

std::string EncodeServerId(const std::string& raw) {
  static constexpr char kAlphabet[] = "0123456789abcdefghijklmnopqrstuv";
  std::string out;
  uint32_t buf = 0;
  int bits = 0;
  for (unsigned char b : raw) {
    buf = (buf << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += kAlphabet[(buf >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += kAlphabet[(buf << (5 - bits)) & 31];
  return out;
}

Result<std::string> LoadOrCreateServerId(const std::string& dir) {
  FileSystem* fs = FileSystem::Default();
  const std::string path = dir + "/" + kFileName;
  const std::string legacy = dir + "/defaultdb/" + kFileName;
  std::string raw;
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    IMMUDB_ASSIGN_OR_RETURN(raw, ReadFileToString(fs, path));
  } else if (std::filesystem::exists(legacy, ec)) {
    IMMUDB_ASSIGN_OR_RETURN(raw, ReadFileToString(fs, legacy));
    if (raw.size() == kIdLen) {
      IMMUDB_RETURN_IF_ERROR(WriteFileAtomic(fs, path, raw));
      std::filesystem::remove(legacy, ec);
    }
  } else {
    IMMUDB_ASSIGN_OR_RETURN(raw, NewId());
    IMMUDB_RETURN_IF_ERROR(WriteFileAtomic(fs, path, raw));
  }
  if (raw.size() != kIdLen) {
    return Status::Corruption(path + ": expected " + std::to_string(kIdLen) + " bytes, found " +
                              std::to_string(raw.size()));
  }
  return EncodeServerId(raw);
}

}  // namespace immudb::server
