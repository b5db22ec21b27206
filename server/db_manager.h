// DatabaseManager: the databases of one server directory. `systemdb` holds
// the users (a database like the others, with its key index, so that the
// sysadmin can read it; never listed, never loaded or unloaded); `defaultdb`
// is created at first start; user databases are the other sub-directories
// of the data dir. The list order (used by
// DatabaseList) is defaultdb, then the databases found at startup in
// directory order, then the ones created since.
//
// A user database may be unloaded (closed, still listed) and loaded again.
// Its settings live beside it in <dir>/<name>.settings (one `key=value` per
// line, written to a temporary file, synced and renamed over the old one);
// changed settings take effect when the database is next loaded. A database
// whose settings say autoload=false stays unloaded at startup.
//
// Thread-safe. A DbHandle stays valid for the manager's lifetime even after
// its database is unloaded: the Database is closed and further calls on it
// fail, which is how requests still running on it end.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "immudb/database.h"
#include "immudb/options.h"
#include "immudb/result.h"
#include "immudb/store.h"

namespace immudb::server {

inline constexpr char kSystemDb[] = "systemdb";
inline constexpr char kDefaultDb[] = "defaultdb";

// immudb's truncation limits (pkg/server/db_options.go, embedded/store):
// the shortest retention period (other than 0) and truncation frequency a
// client may set, and the frequency of a database that does not set one.
inline constexpr int64_t kMinRetentionPeriodMs = int64_t{24} * 3600 * 1000;
inline constexpr int64_t kMinTruncationFrequencyMs = int64_t{3600} * 1000;
inline constexpr int64_t kDefaultTruncationFrequencyMs = int64_t{24} * 3600 * 1000;

// Per-database settings this server supports (wire-api.md §3.6, the subset of
// DatabaseNullableSettings the engine has). Defaults follow immudb's.
struct DbSettings {
  uint32_t max_key_len = 1024;
  uint32_t max_value_len = 32 << 20;
  uint32_t max_tx_entries = 1024;
  uint32_t file_size = 512u << 20;  // Segment size of every log of the store.
  bool exclude_commit_time = false;
  bool autoload = true;
  bool replica = false;  // Written only by replicateTx (replicationSettings.replica).
  // A replica with a primary host follows that primary by itself
  // (server/replicator.h): exportTx there, replicateTx here.
  std::string primary_host;
  uint32_t primary_port = 3322;
  std::string primary_database;
  std::string primary_username;
  std::string primary_password;  // The settings file is 0600.
  std::string created_by;
  uint64_t created_at = 0;  // Unix seconds.
  // Truncation (truncationSettings, server/truncator.h): every
  // `truncation_frequency_ms` the values older than `retention_period_ms` are
  // discarded (Database::Truncate). Retention 0: never. Frequency 0 means the
  // default frequency.
  int64_t retention_period_ms = 0;
  int64_t truncation_frequency_ms = kDefaultTruncationFrequencyMs;

  // InvalidArgument when a value is outside what the engine accepts. The
  // truncation limits clients are held to are ValidateTruncation's.
  Status Validate() const;
  // InvalidArgument with immudb's texts when the retention period is
  // negative or under kMinRetentionPeriodMs (0 allowed), or the truncation
  // frequency negative or under kMinTruncationFrequencyMs (0 allowed).
  Status ValidateTruncation(const std::string& db_name) const;
  // The `key=value` text stored in the settings file, and its parser
  // (Corruption on unknown keys or bad numbers).
  std::string Encode() const;
  static Result<DbSettings> Decode(const std::string& text);
};

// One database: open (`db` set) or unloaded (`db` null).
struct DbHandle {
  std::string name;
  std::unique_ptr<Database> db;
  DbSettings settings;  // As of the last load (or creation).
  // Requests on this database in progress (DbRef) and when the last one
  // ended (Unix milliseconds, 0: none yet): DatabaseHealth.
  std::atomic<uint32_t> pending_requests{0};
  std::atomic<int64_t> last_request_completed_ms{0};

  bool loaded() const { return db != nullptr; }
};

// A request's hold on a database: counted in its pending requests from
// construction to destruction, which records the completion time.
class DbRef {
 public:
  explicit DbRef(DbHandle* h) : h_(h) { h_->pending_requests.fetch_add(1); }
  DbRef(DbRef&& other) noexcept : h_(std::exchange(other.h_, nullptr)) {}
  DbRef& operator=(DbRef&&) = delete;
  DbRef(const DbRef&) = delete;
  DbRef& operator=(const DbRef&) = delete;
  ~DbRef();

  DbHandle* operator->() const { return h_; }
  DbHandle* get() const { return h_; }

 private:
  DbHandle* h_;
};

// Told when databases open and close, so that work tied to an open database
// (the periodic truncator, server/truncator.h) starts and stops with it.
// Called with the manager's lock held: an implementation must not call the
// manager, and should return promptly.
class DbListener {
 public:
  virtual ~DbListener() = default;
  // `h` is open: after Create and Load (`settings` = its settings), and after
  // UpdateSettings of an open database (`settings` = the new stored ones).
  virtual void DatabaseOpen(DbHandle* h, const DbSettings& settings) = 0;
  // `name` is about to close (Unload, CloseAll); its Database is still open
  // and stays open until this returns.
  virtual void DatabaseClosing(const std::string& name) = 0;
};

// Checks a new database name (already lower-cased): 1-128 characters of
// [a-z0-9_]. InvalidArgument with immudb's texts otherwise.
Status ValidateDbName(const std::string& name);

class DatabaseManager {
 public:
  // Opens systemdb, defaultdb and every other database under
  // `dir` (created if missing) whose settings allow autoload.
  // `defaultdb` holds defaultdb's settings (it has no settings file).
  static Result<std::unique_ptr<DatabaseManager>> Open(const std::string& dir,
                                                       const DatabaseOptions& opts,
                                                       const DbSettings& defaultdb = {});
  ~DatabaseManager();

  // The system database (always open until CloseAll; settings: defaults).
  DbHandle* systemdb() const { return systemdb_.get(); }
  // The loaded database called `name` (systemdb excluded). NotFound when
  // there is none, FailedPrecondition "database <name> is not loaded" when it
  // is unloaded.
  Result<DbHandle*> Get(const std::string& name) const;
  // True when `name` is a database (loaded or not).
  bool Exists(const std::string& name) const;
  bool IsLoaded(const std::string& name) const;
  // Names in list order, systemdb excluded, unloaded ones included.
  std::vector<std::string> Names() const;
  // True when there is a database besides defaultdb.
  bool HasUserDatabases() const;
  // Creates and opens a database with `settings` (persisted first).
  // AlreadyExists if it exists.
  // REQUIRES: ValidateDbName(name).ok() and settings.Validate().ok()
  Result<DbHandle*> Create(const std::string& name, const DbSettings& settings = {});
  // Opens an unloaded database with its stored settings. NotFound for an
  // unknown name, FailedPrecondition "database already loaded".
  Status Load(const std::string& name);
  // Closes a loaded database. NotFound for an unknown name,
  // FailedPrecondition "already closed" when it is not loaded.
  Status Unload(const std::string& name);
  // Deletes an unloaded database: its directory and its settings. NotFound
  // "database does not exist" for an unknown name, FailedPrecondition
  // "cannot delete an open database" while it is loaded. The directory is
  // first renamed to a name no database can have (".deleted-<name>-<ns>"),
  // durably, so a crash leaves either the whole database or none of it; such
  // leftovers are removed by Open.
  // REQUIRES: name is neither systemdb nor defaultdb.
  Status Delete(const std::string& name);
  // The stored settings of a database (loaded or not); NotFound otherwise.
  Result<DbSettings> Settings(const std::string& name) const;
  // Replaces the stored settings; they apply from the next load.
  // REQUIRES: settings.Validate().ok()
  Status UpdateSettings(const std::string& name, const DbSettings& settings);
  // Closes every store; the manager must not be used afterwards.
  Status CloseAll();
  // Attaches `l` (nullptr detaches; the listener must outlive the
  // attachment) and tells it about every database open now.
  void SetListener(DbListener* l);

 private:
  DatabaseManager(std::string dir, const DatabaseOptions& opts)
      : dir_(std::move(dir)), opts_(opts) {}
  Result<std::unique_ptr<Database>> OpenDb(const std::string& name, const DbSettings& settings);
  std::string SettingsPath(const std::string& name) const;
  Result<DbSettings> ReadSettings(const std::string& name) const;
  Status WriteSettings(const std::string& name, const DbSettings& settings) const;
  // REQUIRES: mu_ held.
  DbHandle* Find(const std::string& name) const;

  const std::string dir_;
  const DatabaseOptions opts_;
  std::unique_ptr<DbHandle> systemdb_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<DbHandle>> dbs_;  // GUARDED_BY(mu_); list order.
  // Handles replaced by Load/Unload, kept alive for requests still using them.
  std::vector<std::unique_ptr<DbHandle>> retired_;  // GUARDED_BY(mu_)
  DbListener* listener_ = nullptr;                  // GUARDED_BY(mu_)
};

}  // namespace immudb::server
