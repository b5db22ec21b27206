// DatabaseManager: the databases of one server directory. `systemdb` holds
// the users; `defaultdb` is created at first start; user databases are the
// other sub-directories of the data dir. The list order (used by
// DatabaseList) is defaultdb, then the databases found at startup in
// directory order, then the ones created since. Thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "immudb/database.h"
#include "immudb/options.h"
#include "immudb/result.h"
#include "immudb/store.h"

namespace immudb::server {

inline constexpr char kSystemDb[] = "systemdb";
inline constexpr char kDefaultDb[] = "defaultdb";

// One open database.
struct DbHandle {
  std::string name;
  std::unique_ptr<Database> db;
};

// Checks a new database name (already lower-cased): 1-128 characters of
// [a-z0-9_]. InvalidArgument with immudb's texts otherwise.
Status ValidateDbName(const std::string& name);

class DatabaseManager {
 public:
  // Opens systemdb (a bare Store), defaultdb and every other database under `dir` (created
  // if missing).
  static Result<std::unique_ptr<DatabaseManager>> Open(const std::string& dir,
                                                       const DatabaseOptions& opts);
  ~DatabaseManager();

  Store* systemdb() const { return systemdb_.get(); }
  // The database called `name` (systemdb excluded); NotFound otherwise.
  // The handle lives as long as the manager.
  Result<DbHandle*> Get(const std::string& name) const;
  bool Exists(const std::string& name) const;
  // Names in list order, systemdb excluded.
  std::vector<std::string> Names() const;
  // True when there is a database besides defaultdb.
  bool HasUserDatabases() const;
  // Creates and opens a database. AlreadyExists if it exists.
  // REQUIRES: ValidateDbName(name).ok()
  Result<DbHandle*> Create(const std::string& name);
  // Closes every store; the manager must not be used afterwards.
  Status CloseAll();

 private:
  DatabaseManager(std::string dir, const DatabaseOptions& opts)
      : dir_(std::move(dir)), opts_(opts) {}
  Result<std::unique_ptr<DbHandle>> OpenDb(const std::string& name);

  const std::string dir_;
  const DatabaseOptions opts_;
  std::unique_ptr<Store> systemdb_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<DbHandle>> dbs_;  // GUARDED_BY(mu_); list order.
};

}  // namespace immudb::server
