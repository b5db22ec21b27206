#include "server/db_manager.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <limits>
#include <sstream>

#include "immudb/env.h"

namespace immudb::server {
namespace {

constexpr char kSettingsSuffix[] = ".settings";
// A database directory being deleted (no database name has '.' or '-').
constexpr char kDeletedPrefix[] = ".deleted-";

bool ParseU64(const std::string& s, uint64_t* out) {
  const char* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, *out);
  return ec == std::errc() && p == end && !s.empty();
}

bool ParseBool(const std::string& s, bool* out) {
  if (s != "true" && s != "false") return false;
  *out = s == "true";
  return true;
}

Status WriteFileSynced(const std::string& path, const std::string& data) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IOError("cannot create " + tmp);
  bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size());
  ok = ::fsync(fd) == 0 && ok;
  ok = ::close(fd) == 0 && ok;
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Status::IOError("cannot write " + path);
  }
  const std::string dir = std::filesystem::path(path).parent_path().string();
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::OK();
}

}  // namespace

Status ValidateDbName(const std::string& name) {
  if (name.empty() || name.size() > 128) {
    return Status::InvalidArgument("database name length outside of limits");
  }
  for (unsigned char c : name) {
    if (!(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9') && c != '_') {
      return Status::InvalidArgument(
          "punctuation marks and symbols are not allowed in database name");
    }
  }
  return Status::OK();
}

// ---- DbSettings ----

Status DbSettings::Validate() const {
  if (max_key_len == 0 || max_key_len > 65535) {
    return Status::InvalidArgument("max key length must be between 1 and 65535");
  }
  if (max_value_len == 0) return Status::InvalidArgument("max value length must be positive");
  if (max_tx_entries == 0 || max_tx_entries > 65535) {
    return Status::InvalidArgument("max tx entries must be between 1 and 65535");
  }
  if (file_size < 4096) return Status::InvalidArgument("file size must be at least 4096 bytes");
  if (retention_period_ms < 0) return Status::InvalidArgument("negative retention period");
  if (truncation_frequency_ms < 0) return Status::InvalidArgument("negative truncation frequency");
  return Status::OK();
}

Status DbSettings::ValidateTruncation(const std::string& db_name) const {
  // The numbers as immudb prints them: Go's %v of a float number of hours.
  if (retention_period_ms < 0 ||
      (retention_period_ms > 0 && retention_period_ms < kMinRetentionPeriodMs)) {
    return Status::InvalidArgument("illegal arguments: invalid retention period for database '" +
                                   db_name + "'. RetentionPeriod should at least '" +
                                   std::to_string(kMinRetentionPeriodMs / 3600000) + "' hours");
  }
  if (truncation_frequency_ms < 0 ||
      (truncation_frequency_ms > 0 && truncation_frequency_ms < kMinTruncationFrequencyMs)) {
    return Status::InvalidArgument(
        "illegal arguments: invalid truncation frequency for database '" + db_name +
        "'. TruncationFrequency should at least '" +
        std::to_string(kMinTruncationFrequencyMs / 3600000) + "' hour");
  }
  return Status::OK();
}

std::string DbSettings::Encode() const {
  std::ostringstream out;
  out << "maxKeyLen=" << max_key_len << "\nmaxValueLen=" << max_value_len
      << "\nmaxTxEntries=" << max_tx_entries << "\nfileSize=" << file_size
      << "\nexcludeCommitTime=" << (exclude_commit_time ? "true" : "false")
      << "\nautoload=" << (autoload ? "true" : "false")
      << "\nreplica=" << (replica ? "true" : "false") << "\nprimaryHost=" << primary_host
      << "\nprimaryPort=" << primary_port << "\nprimaryDatabase=" << primary_database
      << "\nprimaryUsername=" << primary_username << "\nprimaryPassword=" << primary_password
      << "\ncreatedBy=" << created_by << "\ncreatedAt=" << created_at
      << "\nretentionPeriod=" << retention_period_ms
      << "\ntruncationFrequency=" << truncation_frequency_ms << "\n";
  return out.str();
}

Result<DbSettings> DbSettings::Decode(const std::string& text) {
  DbSettings s;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const size_t eq = line.find('=');
    if (eq == std::string::npos) return Status::Corruption("settings line without '=': " + line);
    const std::string key = line.substr(0, eq);
    const std::string value = line.substr(eq + 1);
    uint64_t n = 0;
    bool ok = true;
    if (key == "createdBy") {
      s.created_by = value;
    } else if (key == "excludeCommitTime") {
      ok = ParseBool(value, &s.exclude_commit_time);
    } else if (key == "autoload") {
      ok = ParseBool(value, &s.autoload);
    } else if (key == "replica") {
      ok = ParseBool(value, &s.replica);
    } else if (key == "primaryHost") {
      s.primary_host = value;
    } else if (key == "primaryDatabase") {
      s.primary_database = value;
    } else if (key == "primaryUsername") {
      s.primary_username = value;
    } else if (key == "primaryPassword") {
      s.primary_password = value;
    } else if (key == "primaryPort") {
      ok = ParseU64(value, &n) && n > 0 && n <= 65535;
      s.primary_port = static_cast<uint32_t>(n);
    } else if (key == "createdAt") {
      ok = ParseU64(value, &s.created_at);
    } else if (key == "retentionPeriod" || key == "truncationFrequency") {
      ok = ParseU64(value, &n) && n <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
      (key == "retentionPeriod" ? s.retention_period_ms : s.truncation_frequency_ms) =
          static_cast<int64_t>(n);
    } else if (ParseU64(value, &n) && n <= UINT32_MAX) {
      const auto v = static_cast<uint32_t>(n);
      if (key == "maxKeyLen") {
        s.max_key_len = v;
      } else if (key == "maxValueLen") {
        s.max_value_len = v;
      } else if (key == "maxTxEntries") {
        s.max_tx_entries = v;
      } else if (key == "fileSize") {
        s.file_size = v;
      } else {
        return Status::Corruption("unknown setting " + key);
      }
    } else {
      ok = false;
    }
    if (!ok) return Status::Corruption("bad value for setting " + key + ": " + value);
  }
  return s;
}

// ---- DatabaseManager ----

Result<std::unique_ptr<DatabaseManager>> DatabaseManager::Open(const std::string& dir,
                                                               const DatabaseOptions& opts,
                                                               const DbSettings& defaultdb) {
  FileSystem* fs = opts.store.fs ? opts.store.fs : FileSystem::Default();
  IMMUDB_RETURN_IF_ERROR(fs->CreateDir(dir));
  std::unique_ptr<DatabaseManager> m(new DatabaseManager(dir, opts));
  // The system database has the store options systemdb always had (no
  // settings file); its key index (systemdb/index) is built from the log when
  // missing, so a directory written before systemdb had one opens as before.
  auto sys = std::make_unique<DbHandle>();
  sys->name = kSystemDb;
  auto sysdb = Database::Open(dir + "/" + kSystemDb, opts);
  if (!sysdb.ok()) return sysdb.status().WithPrefix(kSystemDb);
  sys->db = std::move(sysdb).value();
  m->systemdb_ = std::move(sys);

  auto def = std::make_unique<DbHandle>();
  def->name = kDefaultDb;
  def->settings = defaultdb;
  IMMUDB_ASSIGN_OR_RETURN(def->db, m->OpenDb(kDefaultDb, def->settings));
  m->dbs_.push_back(std::move(def));
  IMMUDB_ASSIGN_OR_RETURN(std::vector<std::string> children, fs->GetChildren(dir));
  for (const std::string& child : children) {
    if (child.starts_with(kDeletedPrefix)) {  // A deletion cut short (Delete).
      std::error_code ec;
      std::filesystem::remove_all(dir + "/" + child, ec);
      continue;
    }
    if (child == kSystemDb || child == kDefaultDb || !ValidateDbName(child).ok()) continue;
    std::error_code ec;
    if (!std::filesystem::is_directory(dir + "/" + child, ec)) continue;
    auto h = std::make_unique<DbHandle>();
    h->name = child;
    IMMUDB_ASSIGN_OR_RETURN(h->settings, m->ReadSettings(child));
    if (h->settings.autoload) {
      IMMUDB_ASSIGN_OR_RETURN(h->db, m->OpenDb(child, h->settings));
    }
    m->dbs_.push_back(std::move(h));
  }
  return m;
}

DatabaseManager::~DatabaseManager() { (void)CloseAll(); }

Result<std::unique_ptr<Database>> DatabaseManager::OpenDb(const std::string& name,
                                                          const DbSettings& settings) {
  DatabaseOptions o = opts_;
  o.store.max_key_len = settings.max_key_len;
  o.store.max_value_len = settings.max_value_len;
  o.store.max_tx_entries = settings.max_tx_entries;
  if (name != kDefaultDb) {
    o.store.tx_log_segment_size = settings.file_size;
    o.store.value_log_segment_size = settings.file_size;
    o.store.commit_log_segment_size = settings.file_size;
    o.store.aht_segment_size = settings.file_size;
  }
  if (settings.exclude_commit_time) {
    // Headers get ts = 0; expiry checks keep using the real clock.
    auto clock = o.store.now_unix_seconds;
    if (!o.now_unix_seconds) {
      o.now_unix_seconds = clock ? clock : [] { return static_cast<int64_t>(std::time(nullptr)); };
    }
    o.store.now_unix_seconds = [] { return int64_t{0}; };
  }
  o.replica = settings.replica;
  auto db = Database::Open(dir_ + "/" + name, o);
  if (!db.ok()) return db.status().WithPrefix("database " + name);
  return std::move(db).value();
}

std::string DatabaseManager::SettingsPath(const std::string& name) const {
  return dir_ + "/" + name + kSettingsSuffix;
}

Result<DbSettings> DatabaseManager::ReadSettings(const std::string& name) const {
  FileSystem* fs = opts_.store.fs ? opts_.store.fs : FileSystem::Default();
  std::error_code ec;
  if (!std::filesystem::exists(SettingsPath(name), ec)) return DbSettings{};
  IMMUDB_ASSIGN_OR_RETURN(std::string text, ReadFileToString(fs, SettingsPath(name)));
  auto s = DbSettings::Decode(text);
  if (!s.ok()) return s.status().WithPrefix(SettingsPath(name));
  return s;
}

Status DatabaseManager::WriteSettings(const std::string& name, const DbSettings& settings) const {
  return WriteFileSynced(SettingsPath(name), settings.Encode());
}

DbRef::~DbRef() {
  if (h_ == nullptr) return;
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  h_->last_request_completed_ms.store(now.count(), std::memory_order_relaxed);
  h_->pending_requests.fetch_sub(1);
}

DbHandle* DatabaseManager::Find(const std::string& name) const {
  for (const auto& db : dbs_) {
    if (db->name == name) return db.get();
  }
  return nullptr;
}

Result<DbHandle*> DatabaseManager::Get(const std::string& name) const {
  std::lock_guard<std::mutex> l(mu_);
  DbHandle* h = Find(name);
  if (h == nullptr) return Status::NotFound("'" + name + "' does not exist");
  if (!h->loaded()) return Status::FailedPrecondition("database " + name + " is not loaded");
  return h;
}

bool DatabaseManager::Exists(const std::string& name) const {
  std::lock_guard<std::mutex> l(mu_);
  return Find(name) != nullptr;
}

bool DatabaseManager::IsLoaded(const std::string& name) const {
  std::lock_guard<std::mutex> l(mu_);
  DbHandle* h = Find(name);
  return h != nullptr && h->loaded();
}

std::vector<std::string> DatabaseManager::Names() const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<std::string> out;
  for (const auto& db : dbs_) out.push_back(db->name);
  return out;
}

bool DatabaseManager::HasUserDatabases() const {
  std::lock_guard<std::mutex> l(mu_);
  return dbs_.size() > 1;
}

Result<DbHandle*> DatabaseManager::Create(const std::string& name, const DbSettings& settings) {
  std::lock_guard<std::mutex> l(mu_);
  if (Find(name) != nullptr) return Status::AlreadyExists("database already exists");
  IMMUDB_RETURN_IF_ERROR(WriteSettings(name, settings));
  auto h = std::make_unique<DbHandle>();
  h->name = name;
  h->settings = settings;
  IMMUDB_ASSIGN_OR_RETURN(h->db, OpenDb(name, settings));
  dbs_.push_back(std::move(h));
  if (listener_ != nullptr) listener_->DatabaseOpen(dbs_.back().get(), settings);
  return dbs_.back().get();
}

Status DatabaseManager::Load(const std::string& name) {
  std::lock_guard<std::mutex> l(mu_);
  for (auto& slot : dbs_) {
    if (slot->name != name) continue;
    if (slot->loaded()) return Status::FailedPrecondition("database already loaded");
    auto h = std::make_unique<DbHandle>();
    h->name = name;
    IMMUDB_ASSIGN_OR_RETURN(h->settings, ReadSettings(name));
    IMMUDB_ASSIGN_OR_RETURN(h->db, OpenDb(name, h->settings));
    retired_.push_back(std::move(slot));
    slot = std::move(h);
    if (listener_ != nullptr) listener_->DatabaseOpen(slot.get(), slot->settings);
    return Status::OK();
  }
  return Status::NotFound("'" + name + "' does not exist");
}

Status DatabaseManager::Unload(const std::string& name) {
  std::lock_guard<std::mutex> l(mu_);
  for (auto& slot : dbs_) {
    if (slot->name != name) continue;
    if (!slot->loaded()) return Status::FailedPrecondition("already closed");
    if (listener_ != nullptr) listener_->DatabaseClosing(name);
    Status closed = slot->db->Close();
    auto h = std::make_unique<DbHandle>();
    h->name = name;
    h->settings = slot->settings;
    retired_.push_back(std::move(slot));
    slot = std::move(h);
    return closed;
  }
  return Status::NotFound("'" + name + "' does not exist");
}

Status DatabaseManager::Delete(const std::string& name) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = std::find_if(dbs_.begin(), dbs_.end(), [&](const auto& h) { return h->name == name; });
  if (it == dbs_.end()) return Status::NotFound("database does not exist");
  if ((*it)->loaded()) return Status::FailedPrecondition("cannot delete an open database");
  FileSystem* fs = opts_.store.fs ? opts_.store.fs : FileSystem::Default();
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  const std::string tomb = dir_ + "/" + kDeletedPrefix + name + "-" + std::to_string(ns);
  IMMUDB_RETURN_IF_ERROR(fs->Rename(dir_ + "/" + name, tomb));
  if (fs->FileExists(SettingsPath(name)))
    IMMUDB_RETURN_IF_ERROR(fs->RemoveFile(SettingsPath(name)));
  IMMUDB_RETURN_IF_ERROR(fs->SyncDir(dir_));
  retired_.push_back(std::move(*it));
  dbs_.erase(it);
  std::error_code ec;
  std::filesystem::remove_all(tomb, ec);  // Open retries what is left.
  return Status::OK();
}

Result<DbSettings> DatabaseManager::Settings(const std::string& name) const {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (Find(name) == nullptr) return Status::NotFound("'" + name + "' does not exist");
  }
  return ReadSettings(name);
}

Status DatabaseManager::UpdateSettings(const std::string& name, const DbSettings& settings) {
  std::lock_guard<std::mutex> l(mu_);
  DbHandle* h = Find(name);
  if (h == nullptr) return Status::NotFound("'" + name + "' does not exist");
  IMMUDB_RETURN_IF_ERROR(WriteSettings(name, settings));
  if (listener_ != nullptr && h->loaded()) listener_->DatabaseOpen(h, settings);
  return Status::OK();
}

void DatabaseManager::SetListener(DbListener* listener) {
  std::lock_guard<std::mutex> l(mu_);
  listener_ = listener;
  if (listener_ == nullptr) return;
  for (const auto& h : dbs_) {
    if (!h->loaded()) continue;
    // The stored settings: an update since the load applies to the listener.
    auto stored = h->name == kDefaultDb ? Result<DbSettings>(h->settings) : ReadSettings(h->name);
    listener_->DatabaseOpen(h.get(), stored.ok() ? *stored : h->settings);
  }
}

Status DatabaseManager::CloseAll() {
  std::lock_guard<std::mutex> l(mu_);
  if (listener_ != nullptr) {
    for (const auto& h : dbs_) {
      if (h->loaded()) listener_->DatabaseClosing(h->name);
    }
    listener_ = nullptr;
  }
  Status first;
  for (auto* list : {&dbs_, &retired_}) {
    for (auto& db : *list) {
      if (db->db) {
        Status s = db->db->Close();
        if (first.ok() && !s.ok() && list == &dbs_) first = s;
        db->db.reset();
      }
    }
  }
  if (systemdb_ && systemdb_->db) {
    Status s = systemdb_->db->Close();
    if (first.ok() && !s.ok()) first = s;
    // The handle stays (closed) for requests that still hold it.
    systemdb_->db.reset();
  }
  return first;
}

}  // namespace immudb::server
