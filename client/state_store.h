// StateStore: the client's trusted states for one server, kept in one file.
//
// The file pins the server's identity (its immudb-uuid) and holds one trusted
// state per database. Text, one record per '\n'-terminated line:
//
//   immudb-client-state 1
//   server <uuid>
//   state <db> <tx_id> <tx_hash: 64 hex digits> <signature: hex, or "-">
//
// The first two lines are always present; "state" lines follow in any order,
// one per database. Database names and uuids contain no whitespace. The file
// has mode 0600 and is replaced atomically (a temporary file, fsync, rename).
//
// A state never moves backwards: Put refuses a state behind the stored one, or
// a different hash at the same tx, as tampering. A different uuid than the
// pinned one is tampering too; the only way to trust another server at the
// same address is to delete the file.
//
// Processes (and StateStore objects) sharing the file take turns through an
// exclusive flock(2) on "<path>.lock" (mode 0600, never removed): Get and Put
// each hold it, and a caller that reads a state, checks a proof against it
// and stores the result holds a Lock() across all three, so a state stored
// meanwhile by another process is never mistaken for tampering and the file is
// never written by two at once. One StateStore object is not thread-safe.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "client/types.h"
#include "immudb/result.h"

namespace immudb::client {

class StateStore {
 public:
  explicit StateStore(std::string path) : path_(std::move(path)) {}

  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  const std::string& path() const { return path_; }

  // Holds the file lock until destroyed. Re-entrant within this object: nested
  // Locks (and Get/Put under a Lock) do not block on each other.
  class Lock {
   public:
    ~Lock();
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;

   private:
    friend class StateStore;
    explicit Lock(StateStore* store) : store_(store) {}
    StateStore* store_;
  };
  // Waits (at most `wait_ms`) for the lock. IOError when the lock file cannot
  // be opened, or when another process holds the lock all that time.
  Result<std::unique_ptr<Lock>> Acquire(int wait_ms = 60000);

  // The trusted state of `db` on server `uuid`, or nullopt when there is none
  // (no file, or no line for `db`). Tampering when the file pins another uuid;
  // Corruption when the file is malformed; IOError when it cannot be read.
  Result<std::optional<State>> Get(std::string_view uuid, std::string_view db);

  // Stores `state` (state.db names the database) as trusted for server `uuid`,
  // pinning the uuid when the file is new. Tampering when the file pins another
  // uuid or `state` is behind or forks from the stored state; InvalidArgument
  // for a uuid or db with whitespace; IOError when the file cannot be written.
  Status Put(std::string_view uuid, const State& state);

 private:
  struct Contents {
    std::string uuid;  // Empty when the file does not exist.
    std::map<std::string, State> states;
  };
  Result<Contents> Read();
  Status Write(const Contents& c);

  void Release();

  std::string path_;
  int lock_fd_ = -1;  // Open while lock_depth_ > 0.
  int lock_depth_ = 0;
};

}  // namespace immudb::client
