#include "client/state_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "client/tampering.h"

namespace immudb::client {
namespace {

constexpr char kMagic[] = "immudb-client-state 1";

bool HasSpace(std::string_view s) {
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\0') return true;
  }
  return false;
}

Status PinCheck(const std::string& pinned, std::string_view uuid) {
  if (!pinned.empty() && pinned != uuid) {
    return Tampering("server identity changed: trusted server " + pinned + ", now " +
                     std::string(uuid));
  }
  return Status::OK();
}

Status WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::IOError(std::string("write: ") + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  return Status::OK();
}

}  // namespace

StateStore::~StateStore() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Result<std::unique_ptr<StateStore::Lock>> StateStore::Acquire(int wait_ms) {
  if (lock_depth_ > 0) {
    ++lock_depth_;
    return std::unique_ptr<Lock>(new Lock(this));
  }
  const std::string lock_path = path_ + ".lock";
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Status::IOError("cannot open lock file " + lock_path + ": " + std::strerror(errno));
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if ((err != EWOULDBLOCK && err != EINTR) || std::chrono::steady_clock::now() >= deadline) {
      ::close(fd);
      return Status::IOError("cannot lock " + lock_path + ": " +
                             (err == EWOULDBLOCK ? std::string("held by another process")
                                                 : std::string(std::strerror(err))));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  lock_fd_ = fd;
  lock_depth_ = 1;
  return std::unique_ptr<Lock>(new Lock(this));
}

StateStore::Lock::~Lock() { store_->Release(); }

void StateStore::Release() {
  if (--lock_depth_ > 0) return;
  ::flock(lock_fd_, LOCK_UN);
  ::close(lock_fd_);
  lock_fd_ = -1;
}

Result<StateStore::Contents> StateStore::Read() {
  Contents c;
  std::error_code ec;
  if (!std::filesystem::exists(path_, ec) && !ec) return c;
  std::ifstream in(path_);
  if (!in) return Status::IOError("cannot read state file " + path_);
  auto bad = [this](const std::string& why) {
    return Status::Corruption("state file " + path_ + ": " + why);
  };
  std::string line;
  if (!std::getline(in, line) || line != kMagic) return bad("bad first line");
  if (!std::getline(in, line) || !line.starts_with("server ") || line.size() <= 7) {
    return bad("bad server line");
  }
  c.uuid = line.substr(7);
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string tag, hash_hex, sig_hex, extra;
    State s;
    if (!(fields >> tag >> s.db >> s.tx_id >> hash_hex >> sig_hex) || tag != "state" ||
        (fields >> extra) || !HashFromHex(hash_hex, &s.tx_hash) ||
        (sig_hex != "-" && !FromHex(sig_hex, &s.signature))) {
      return bad("bad state line");
    }
    if (!c.states.emplace(s.db, s).second) return bad("two states for database " + s.db);
  }
  return c;
}

Status StateStore::Write(const Contents& c) {
  std::string text = std::string(kMagic) + "\nserver " + c.uuid + "\n";
  for (const auto& [db, s] : c.states) {
    text += "state " + db + " " + std::to_string(s.tx_id) + " " + ToHex(s.tx_hash) + " " +
            (s.signature.empty() ? std::string("-") : ToHex(s.signature)) + "\n";
  }
  const std::string tmp = path_ + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Status::IOError("cannot write state file " + tmp + ": " + std::strerror(errno));
  }
  Status st = WriteAll(fd, text);
  if (st.ok() && ::fsync(fd) != 0)
    st = Status::IOError(std::string("fsync: ") + std::strerror(errno));
  ::close(fd);
  if (st.ok() && ::rename(tmp.c_str(), path_.c_str()) != 0) {
    st = Status::IOError("cannot rename " + tmp + ": " + std::strerror(errno));
  }
  if (!st.ok()) ::unlink(tmp.c_str());
  return st.WithPrefix("state file " + path_);
}

Result<std::optional<State>> StateStore::Get(std::string_view uuid, std::string_view db) {
  IMMUDB_ASSIGN_OR_RETURN(std::unique_ptr<Lock> lock, Acquire());
  IMMUDB_ASSIGN_OR_RETURN(Contents c, Read());
  IMMUDB_RETURN_IF_ERROR(PinCheck(c.uuid, uuid));
  auto it = c.states.find(std::string(db));
  if (it == c.states.end()) return std::optional<State>();
  return std::optional<State>(it->second);
}

Status StateStore::Put(std::string_view uuid, const State& state) {
  if (uuid.empty() || HasSpace(uuid) || state.db.empty() || HasSpace(state.db)) {
    return Status::InvalidArgument("server uuid and database name must be non-empty words");
  }
  IMMUDB_ASSIGN_OR_RETURN(std::unique_ptr<Lock> lock, Acquire());
  IMMUDB_ASSIGN_OR_RETURN(Contents c, Read());
  IMMUDB_RETURN_IF_ERROR(PinCheck(c.uuid, uuid));
  c.uuid = std::string(uuid);
  auto it = c.states.find(state.db);
  if (it != c.states.end()) {
    const State& old = it->second;
    if (state.tx_id < old.tx_id) {
      return Tampering("state of " + state.db + " went backwards from tx " +
                       std::to_string(old.tx_id) + " to tx " + std::to_string(state.tx_id));
    }
    if (state.tx_id == old.tx_id && state.tx_hash != old.tx_hash) {
      return Tampering("two different hashes for tx " + std::to_string(state.tx_id) + " of " +
                       state.db);
    }
  }
  c.states[state.db] = state;
  return Write(c);
}

}  // namespace immudb::client
