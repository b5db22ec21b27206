// Administration calls of ImmuService (wire-api.md §3.2, §3.6, §5) for
// immuadmin: users and permissions, databases and their settings, server
// info, and raw transaction reads and writes for backup and restore.
//
// Free functions over a logged-in Client (client.h); each makes one or a few
// unary calls and returns the server's error as a Status (same code, same
// message). Thread-compatible, like Client.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "client/client.h"
#include "immudb/result.h"
#include "immudb/tx.h"
#include "schema.pb.h"

namespace immudb::client {

// Permission levels (plain numbers on the wire) and their immuadmin names.
inline constexpr uint32_t kPermRead = 1;
inline constexpr uint32_t kPermReadWrite = 2;
inline constexpr uint32_t kPermAdmin = 254;
inline constexpr uint32_t kPermSysAdmin = 255;
// "read", "readwrite", "admin", "sysadmin" -> level; 0 for anything else.
uint32_t PermissionFromName(const std::string& name);
// The name of a level ("" for an unknown one).
std::string PermissionName(uint32_t level);

struct UserInfo {
  std::string name;
  std::vector<std::pair<std::string, uint32_t>> permissions;  // database, level.
  std::string created_by;
  std::string created_at;
  bool active = false;
};

struct DatabaseInfo {
  std::string name;
  bool loaded = false;
  uint64_t disk_size = 0;
  uint64_t num_transactions = 0;
  uint64_t created_at = 0;  // Unix seconds, 0 when unknown.
  std::string created_by;
  schema::DatabaseNullableSettings settings;
};

struct ServerInfo {
  std::string version;
  int64_t started_at = 0;  // Unix seconds.
  int64_t num_transactions = 0;
  int32_t num_databases = 0;
  int64_t disk_size = 0;
};

// ---- users ----
Result<std::vector<UserInfo>> ListUsers(Client& c);
Status CreateUser(Client& c, const std::string& user, const std::string& password,
                  uint32_t permission, const std::string& database);
Status ChangePassword(Client& c, const std::string& user, const std::string& old_password,
                      const std::string& new_password);
Status ChangePermission(Client& c, bool grant, const std::string& user, const std::string& database,
                        uint32_t permission);
Status SetActiveUser(Client& c, const std::string& user, bool active);

// ---- databases ----
Result<std::vector<DatabaseInfo>> ListDatabases(Client& c);
// Returns the effective settings; `already_existed` (optional) tells whether
// the name was taken (only without an error when `if_not_exists`).
Result<schema::DatabaseNullableSettings> CreateDatabase(
    Client& c, const std::string& name, const schema::DatabaseNullableSettings& settings,
    bool if_not_exists = false, bool* already_existed = nullptr);
Status LoadDatabase(Client& c, const std::string& name);
Status UnloadDatabase(Client& c, const std::string& name);
// Deletes an unloaded database (its files included).
Status DeleteDatabase(Client& c, const std::string& name);
// Changes the settings present in `settings`; returns the effective ones.
Result<schema::DatabaseNullableSettings> UpdateDatabase(
    Client& c, const std::string& name, const schema::DatabaseNullableSettings& settings);
Result<ServerInfo> GetServerInfo(Client& c);
// replicateTx of one transaction in immudb's exported form
// (docs/format/exported-tx.md) into the selected database, which must be a
// replica; waits for the index. Returns the committed header.
Result<TxHeader> ReplicateTx(Client& c, const std::string& exported);
// exportTx of tx `id` of the selected database: the exported bytes
// (docs/format/exported-tx.md), unframed. NotFound-like server errors pass
// through; a stream that is not one framed message is InvalidArgument.
Result<std::string> ExportTx(Client& c, uint64_t id);
// FlushIndex / CompactIndex of the selected database. `cleanup_percentage`
// and `synced` are sent as given (the server checks the percentage is in
// [0, 100]).
Status FlushIndex(Client& c, float cleanup_percentage = 0, bool synced = true);
Status CompactIndex(Client& c);
// TruncateDatabase: discards the values of database `name` older than the
// retention period (immudb's cut: docs/format/truncation.md).
Status TruncateDatabase(Client& c, const std::string& name, int64_t retention_ms);
// UpdateAuthConfig (kind: 0 none, 1 password) / UpdateMTLSConfig: immudb v1
// calls that servers answer with an error (deprecated upstream, not
// supported here).
Status UpdateAuthConfig(Client& c, uint32_t kind);
Status UpdateMTLSConfig(Client& c, bool enabled);

// ---- raw transactions (backup / restore) ----

// A stored entry with its stored value (prefixes included, proofs.md §1.1).
struct RawEntry {
  TxEntry entry;
  std::string value;
};
struct RawTx {
  TxHeader header;
  std::vector<RawEntry> entries;
};

// Up to `limit` transactions of the selected database from `first_tx` on,
// each with every entry and its stored value (TxScan with RAW_VALUE specs).
// The server's hashes are not checked here.
Result<std::vector<RawTx>> ScanRawTxs(Client& c, uint64_t first_tx, uint32_t limit);

// The ExecAll operation that writes `e` again: a plain or deleted key-value
// (with its KV metadata), a reference or a sorted-set member.
// InvalidArgument for stored forms that ExecAll cannot reproduce (SQL or
// document keys, references with metadata, malformed encodings).
Result<schema::Op> OpFromStored(const RawEntry& e);

// Writes `entries` as one transaction of the selected database (ExecAll) and
// returns its header. REQUIRES: every OpFromStored(entry) is ok.
Result<TxHeader> WriteRawTx(Client& c, const std::vector<RawEntry>& entries);

}  // namespace immudb::client
