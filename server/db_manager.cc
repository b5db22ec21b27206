#include "server/db_manager.h"

#include <filesystem>

#include "immudb/env.h"

namespace immudb::server {

Status ValidateDbName(const std::string& name) {
  if (name.empty() || name.size() > 128) {
    return Status::InvalidArgument("database name length outside of limits");
  }
  for (unsigned char c : name) {
    if (!(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9') && c != '_') {
      return Status::InvalidArgument("punctuation marks and symbols are not allowed in database name");
    }
  }
  return Status::OK();
}

Result<std::unique_ptr<DatabaseManager>> DatabaseManager::Open(const std::string& dir,
                                                               const DatabaseOptions& opts) {
  FileSystem* fs = opts.store.fs ? opts.store.fs : FileSystem::Default();
  IMMUDB_RETURN_IF_ERROR(fs->CreateDir(dir));
  std::unique_ptr<DatabaseManager> m(new DatabaseManager(dir, opts));
  auto sys = Store::Open(dir + "/" + kSystemDb, opts.store);
  if (!sys.ok()) return sys.status().WithPrefix(kSystemDb);
  m->systemdb_ = std::move(sys).value();

  IMMUDB_ASSIGN_OR_RETURN(auto def, m->OpenDb(kDefaultDb));
  m->dbs_.push_back(std::move(def));
  IMMUDB_ASSIGN_OR_RETURN(std::vector<std::string> children, fs->GetChildren(dir));
  for (const std::string& child : children) {
    if (child == kSystemDb || child == kDefaultDb || !ValidateDbName(child).ok()) continue;
    std::error_code ec;
    if (!std::filesystem::is_directory(dir + "/" + child, ec)) continue;
    IMMUDB_ASSIGN_OR_RETURN(auto db, m->OpenDb(child));
    m->dbs_.push_back(std::move(db));
  }
  return m;
}

DatabaseManager::~DatabaseManager() { (void)CloseAll(); }

Result<std::unique_ptr<DbHandle>> DatabaseManager::OpenDb(const std::string& name) {
  auto db = Database::Open(dir_ + "/" + name, opts_);
  if (!db.ok()) return db.status().WithPrefix("database " + name);
  auto h = std::make_unique<DbHandle>();
  h->name = name;
  h->db = std::move(db).value();
  return h;
}

Result<DbHandle*> DatabaseManager::Get(const std::string& name) const {
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& db : dbs_) {
    if (db->name == name) return db.get();
  }
  return Status::NotFound("'" + name + "' does not exist");
}

bool DatabaseManager::Exists(const std::string& name) const { return Get(name).ok(); }

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

Result<DbHandle*> DatabaseManager::Create(const std::string& name) {
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& db : dbs_) {
    if (db->name == name) return Status::AlreadyExists("database already exists");
  }
  IMMUDB_ASSIGN_OR_RETURN(auto db, OpenDb(name));
  dbs_.push_back(std::move(db));
  return dbs_.back().get();
}

Status DatabaseManager::CloseAll() {
  std::lock_guard<std::mutex> l(mu_);
  Status first;
  for (auto& db : dbs_) {
    if (db->db) {
      Status s = db->db->Close();
      if (first.ok() && !s.ok()) first = s;
      db->db.reset();
    }
  }
  if (systemdb_) {
    Status s = systemdb_->Close();
    if (first.ok() && !s.ok()) first = s;
    systemdb_.reset();
  }
  return first;
}

}  // namespace immudb::server
