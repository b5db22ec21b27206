// The immuadmin backup file (docs/format/backup.md): every transaction of a
// database, header, entries and values, in tx order, each record with its own
// CRC-32C, and a trailer with the number of transactions and the last Alh.
//
// BackupReader re-derives every entry's value hash, the transaction's Eh and
// the Alh chain from the file as it reads, so a record that was altered (even
// with its checksum fixed) is Corruption naming the transaction.
//
// Not thread-safe; one reader or writer per thread.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "client/admin.h"
#include "immudb/hash.h"
#include "immudb/result.h"

namespace immudb::admin {

inline constexpr char kBackupMagic[] = "IMMUBAK\n";  // 8 bytes, no NUL.
inline constexpr uint32_t kBackupVersion = 1;
inline constexpr uint8_t kRecordTx = 0x01;
inline constexpr uint8_t kRecordEnd = 0x02;
// Largest record payload accepted (a tx of 1024 entries of 32 MiB values
// would not fit; the server's limits keep real transactions far below).
inline constexpr uint32_t kMaxRecordLen = 1u << 30;

// Checks `tx` as the transaction that follows one with Alh `prev_alh`, whose
// id must be `expected_id`: the entry count, every value's hash and length,
// the KV metadata, Eh, and prev_alh. Returns the tx's Alh, or Corruption
// "tx N: ..." saying what does not match.
Result<Hash> VerifyRawTx(const client::RawTx& tx, uint64_t expected_id, const Hash& prev_alh);

class BackupWriter {
 public:
  // Starts `path` (which must not exist yet) for database `db`; the data goes
  // to `path`.tmp until Finish renames it.
  static Result<std::unique_ptr<BackupWriter>> Create(const std::string& path,
                                                      const std::string& db);
  ~BackupWriter();

  Status Append(const client::RawTx& tx);
  // Writes the trailer, syncs, and renames the file into place.
  Status Finish(uint64_t tx_count, const Hash& last_alh);
  uint64_t bytes_written() const { return bytes_; }

 private:
  BackupWriter(std::string path, std::FILE* f) : path_(std::move(path)), f_(f) {}
  Status WriteRecord(uint8_t kind, const std::string& payload);

  std::string path_;
  std::FILE* f_;
  uint64_t bytes_ = 0;
  bool finished_ = false;
};

class BackupReader {
 public:
  // Opens `path` and checks its header. Corruption / InvalidArgument when it
  // is not a backup file of a version this reader knows.
  static Result<std::unique_ptr<BackupReader>> Open(const std::string& path);
  ~BackupReader();

  const std::string& database() const { return db_; }
  uint64_t file_size() const { return size_; }
  uint64_t offset() const { return offset_; }

  // Reads and verifies the next transaction (VerifyRawTx). Returns false at
  // the trailer, after checking its count and Alh against what was read.
  Result<bool> Next(client::RawTx* tx);
  // Number of transactions read so far and the Alh of the last one.
  uint64_t tx_count() const { return count_; }
  const Hash& last_alh() const { return alh_; }

 private:
  BackupReader(std::string path, std::FILE* f) : path_(std::move(path)), f_(f) {}
  Status ReadExact(void* buf, size_t n, const char* what);

  std::string path_;
  std::FILE* f_;
  std::string db_;
  uint64_t size_ = 0;
  uint64_t offset_ = 0;
  uint64_t count_ = 0;
  Hash alh_ = EmptyHash();
  bool done_ = false;
};

}  // namespace immudb::admin
