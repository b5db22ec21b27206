// `immuadmin hot-backup` / `hot-restore`: a database's transactions in
// immudb's hot backup format (docs/format/hot-backup.md), so files move
// between immudb and this implementation. Each record carries one
// transaction as exportTx streams it, with its Alh; every record is checked
// (values, entry digests, Eh, Alh, the chain to the record before) before it
// is written to a file or to a database.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "client/admin.h"
#include "cmd/immuadmin/cli.h"
#include "immudb/hash.h"
#include "immudb/result.h"

namespace immudb::admin {

inline constexpr char kHotBackupPrefix[] = "IMMUBACKUP";  // 10 bytes, no NUL.
inline constexpr uint32_t kHotBackupVersion = 1;
// prefix, version u32, tx id u64, checksum length u32, payload length u32.
inline constexpr size_t kHotBackupHeaderSize = 10 + 4 + 8 + 4 + 4;
// Largest payload accepted (a transaction as exportTx sends it).
inline constexpr uint32_t kHotBackupMaxPayload = 1u << 30;

// One record: the transaction's id, its Alh, and the exportTx stream bytes
// (an 8-byte big-endian length, then the exported transaction).
struct HotBackupRecord {
  uint64_t tx_id = 0;
  Hash alh{};
  std::string payload;
};

// The record of exported transaction `exported` (unframed) with Alh `alh`.
std::string EncodeHotBackupRecord(uint64_t tx_id, const Hash& alh, const std::string& exported);

// Reads the next record of `f`: false at a clean end of file; Corruption
// naming `what` and the offset for a short or malformed record.
Result<bool> ReadHotBackupRecord(std::FILE* f, const std::string& what, uint64_t* offset,
                                 HotBackupRecord* rec);

// Checks that `rec` is a transaction that hashes to its Alh and, when
// `prev_alh` is given, chains onto it. Returns the unframed exported bytes.
// Corruption "tx N: ..." otherwise.
Result<std::string> VerifyHotBackupRecord(const HotBackupRecord& rec, const Hash* prev_alh);

struct HotBackupOptions {
  std::string output = "-";  // "-": standard output.
  uint64_t start_tx = 1;
  bool append = false;
  bool progress = false;
};
void HotBackup(const Settings& s, const std::string& db, const HotBackupOptions& o);

struct HotRestoreOptions {
  std::string input = "-";  // "-": standard input.
  bool verify_only = false;
  bool append = false;
  bool force = false;
  // Switch an existing primary database to replica mode for the restore
  // (and back afterwards); without it an existing database must already be
  // a replica.
  bool force_replica = false;
  bool progress = false;
};
void HotRestore(const Settings& s, const std::string& db, const HotRestoreOptions& o);

}  // namespace immudb::admin
