#include "cmd/immuadmin/hot_backup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <iostream>

#include "cmd/immuadmin/backup_file.h"
#include "store/export.h"
#include "util/coding.h"

namespace immudb::admin {
namespace {

std::string TxName(uint64_t id) { return "tx " + std::to_string(id); }

// A FILE* that is closed on scope exit unless it is stdin/stdout.
struct FileCloser {
  std::FILE* f = nullptr;
  ~FileCloser() {
    if (f != nullptr && f != stdin && f != stdout) std::fclose(f);
  }
};

// The Alh of transaction `id` of the selected database (from its exported
// header, which the server's exportTx reads and checks).
Hash ServerAlh(client::Client& c, uint64_t id) {
  const std::string bytes = Must(client::ExportTx(c, id));
  const store::ExportedTx x = Must(store::DecodeExportedTx(bytes));
  return Must(x.header.Alh());
}

// Reads every record of `f` from the current position, checking each and the
// chain between them (the first one chains onto `*prev` when given). Fills
// the first and last tx ids (0 when there is none) and the last Alh; when
// `probe` is given, probe->second gets the Alh of tx probe->first if the file
// holds it (else it is left alone).
void ScanFile(std::FILE* f, const std::string& what, const Hash* prev, uint64_t* first,
              uint64_t* last, Hash* last_alh, std::pair<uint64_t, Hash*>* probe = nullptr) {
  *first = *last = 0;
  uint64_t offset = 0;
  HotBackupRecord rec;
  Hash chain{};
  const Hash* want = prev;
  while (Must(ReadHotBackupRecord(f, what, &offset, &rec))) {
    if (*last != 0 && rec.tx_id != *last + 1) {
      throw Failure(what + ": incorrect transaction order in file (tx " +
                    std::to_string(rec.tx_id) + " after tx " + std::to_string(*last) + ")");
    }
    Must(VerifyHotBackupRecord(rec, want));
    if (probe != nullptr && probe->first == rec.tx_id) *probe->second = rec.alh;
    if (*first == 0) *first = rec.tx_id;
    *last = rec.tx_id;
    chain = rec.alh;
    want = &chain;
  }
  *last_alh = chain;
}

// Switches `db` between replica (it takes replicateTx) and primary; the
// database is reloaded so the setting takes effect.
void SetReplica(client::Client& c, const std::string& db, bool replica) {
  schema::DatabaseNullableSettings settings;
  settings.mutable_replicationsettings()->mutable_replica()->set_value(replica);
  Must(client::UpdateDatabase(c, db, settings));
  Must(client::UnloadDatabase(c, db));
  Must(client::LoadDatabase(c, db));
  Must(c.UseDatabase(db));
}

}  // namespace

std::string EncodeHotBackupRecord(uint64_t tx_id, const Hash& alh, const std::string& exported) {
  std::string out;
  out.reserve(kHotBackupHeaderSize + alh.size() + 8 + exported.size());
  out.append(kHotBackupPrefix, 10);
  AppendU32BE(&out, kHotBackupVersion);
  AppendU64BE(&out, tx_id);
  AppendU32BE(&out, static_cast<uint32_t>(alh.size()));
  AppendU32BE(&out, static_cast<uint32_t>(8 + exported.size()));
  out.append(reinterpret_cast<const char*>(alh.data()), alh.size());
  AppendU64BE(&out, exported.size());
  out += exported;
  return out;
}

Result<bool> ReadHotBackupRecord(std::FILE* f, const std::string& what, uint64_t* offset,
                                 HotBackupRecord* rec) {
  uint8_t hdr[kHotBackupHeaderSize];
  const size_t got = std::fread(hdr, 1, sizeof(hdr), f);
  const std::string at = what + " at offset " + std::to_string(*offset);
  if (got == 0 && std::feof(f)) return false;
  if (got != sizeof(hdr)) return Status::Corruption(at + ": malformed backup file (short record)");
  if (std::memcmp(hdr, kHotBackupPrefix, 10) != 0) {
    return Status::Corruption(at + ": malformed backup file (not an immudb hot backup record)");
  }
  const uint32_t version = GetU32BE(hdr + 10);
  if (version != kHotBackupVersion) {
    return Status::Corruption(at + ": unsupported backup file version " + std::to_string(version));
  }
  rec->tx_id = GetU64BE(hdr + 14);
  const uint32_t sum_len = GetU32BE(hdr + 22);
  const uint32_t payload_len = GetU32BE(hdr + 26);
  if (rec->tx_id == 0 || sum_len != rec->alh.size() || payload_len < 8 ||
      payload_len > kHotBackupMaxPayload) {
    return Status::Corruption(at + ": malformed backup file (bad record header)");
  }
  if (std::fread(rec->alh.data(), 1, rec->alh.size(), f) != rec->alh.size()) {
    return Status::Corruption(at + ": malformed backup file (short record)");
  }
  rec->payload.resize(payload_len);
  if (std::fread(rec->payload.data(), 1, payload_len, f) != payload_len) {
    return Status::Corruption(at + ": malformed backup file (short record)");
  }
  *offset += sizeof(hdr) + sum_len + payload_len;
  return true;
}

Result<std::string> VerifyHotBackupRecord(const HotBackupRecord& rec, const Hash* prev_alh) {
  const std::string name = TxName(rec.tx_id);
  const auto* p = reinterpret_cast<const uint8_t*>(rec.payload.data());
  if (rec.payload.size() < 8 || GetU64BE(p) != rec.payload.size() - 8) {
    return Status::Corruption(name + ": the exported transaction's length frame is wrong");
  }
  std::string exported = rec.payload.substr(8);
  auto x = store::DecodeExportedTx(exported);
  if (!x.ok()) return Status::Corruption(name + ": " + x.status().message());
  if (x->header.id != rec.tx_id) {
    return Status::Corruption(name + ": the record holds tx " + std::to_string(x->header.id));
  }
  client::RawTx raw;
  raw.header = x->header;
  for (EntrySpec& e : x->entries) {
    client::RawEntry& r = raw.entries.emplace_back();
    r.entry.key = std::move(e.key);
    r.entry.md = e.md;
    r.value = std::move(e.value);
  }
  const Hash chain = prev_alh != nullptr ? *prev_alh : raw.header.prev_alh;
  IMMUDB_ASSIGN_OR_RETURN(Hash alh, VerifyRawTx(raw, rec.tx_id, chain));
  if (alh != rec.alh) {
    return Status::Corruption(name + ": the transaction does not hash to the record's Alh");
  }
  return exported;
}

void HotBackup(const Settings& s, const std::string& db, const HotBackupOptions& o) {
  if (o.start_tx == 0) throw Failure("--start-tx must be at least 1");
  if (o.start_tx > 1 && o.append) {
    throw Failure("don't use --append and --start-tx options together");
  }
  if (o.output == "-" && o.append) {
    throw Failure("--append option can be used only when outputting to the file");
  }
  auto c = SessionClient(s, true);
  Must(c->UseDatabase(db));

  FileCloser out;
  uint64_t start = o.start_tx;
  Hash prev = EmptyHash();
  bool chained = start == 1;
  if (o.output == "-") {
    out.f = stdout;
  } else {
    struct stat st;
    if (::stat(o.output.c_str(), &st) == 0) {
      if (!o.append) {
        throw Failure("file already exists, use --append option to append new data to file");
      }
      out.f = std::fopen(o.output.c_str(), "r+b");
      if (out.f == nullptr) throw Failure("cannot open " + o.output + ": " + std::strerror(errno));
      uint64_t first = 0, last = 0;
      ScanFile(out.f, o.output, nullptr, &first, &last, &prev);
      if (last == 0) throw Failure(o.output + ": malformed backup file (no transaction)");
      if (last > Must(c->CurrentState()).tx_id) {
        throw Failure("cannot find file's last transaction " + std::to_string(last) +
                      " in database '" + db + "'");
      }
      if (ServerAlh(*c, last) != prev) {
        throw Failure("checksums for transaction " + std::to_string(last) +
                      " in backup file and database differ - probably file was created from "
                      "different database");
      }
      start = last + 1;
      chained = true;
      std::fseek(out.f, 0, SEEK_END);
    } else {
      const int fd = ::open(o.output.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      out.f = fd >= 0 ? ::fdopen(fd, "wb") : nullptr;
      if (out.f == nullptr)
        throw Failure("cannot create " + o.output + ": " + std::strerror(errno));
    }
  }
  const client::State state = Must(c->CurrentState());
  if (state.tx_id < start) {
    std::cerr << "All backed up, nothing to do\n";
    return;
  }
  if (!chained) prev = ServerAlh(*c, start - 1);
  std::cerr << "Backing up transactions " << start << " - " << state.tx_id << "\n";
  Progress progress("hot-backup", o.progress ? state.tx_id - start + 1 : 0, true);
  for (uint64_t id = start; id <= state.tx_id; id++) {
    const std::string exported = Must(client::ExportTx(*c, id));
    auto x = store::DecodeExportedTx(exported);
    if (!x.ok()) throw Failure("server data for " + TxName(id) + ": " + x.status().message());
    const Hash alh = Must(x->header.Alh());
    HotBackupRecord rec{id, alh, {}};
    rec.payload.reserve(8 + exported.size());
    AppendU64BE(&rec.payload, exported.size());
    rec.payload += exported;
    auto ok = VerifyHotBackupRecord(rec, &prev);
    if (!ok.ok()) throw Failure("server data does not verify: " + ok.status().message());
    const std::string bytes = EncodeHotBackupRecord(id, alh, exported);
    if (std::fwrite(bytes.data(), 1, bytes.size(), out.f) != bytes.size()) {
      throw Failure("cannot write the backup: " + std::string(std::strerror(errno)));
    }
    prev = alh;
    progress.Update(id - start + 1);
  }
  if (prev != state.tx_hash) {
    throw Failure("the transactions read do not lead to the server's state at tx " +
                  std::to_string(state.tx_id));
  }
  if (std::fflush(out.f) != 0 || (out.f != stdout && ::fsync(::fileno(out.f)) != 0)) {
    throw Failure("cannot write the backup: " + std::string(std::strerror(errno)));
  }
  std::cerr << "Done\n";
}

void HotRestore(const Settings& s, const std::string& db, const HotRestoreOptions& o) {
  FileCloser in;
  const std::string what = o.input == "-" ? "standard input" : o.input;
  if (o.input == "-") {
    in.f = stdin;
  } else {
    in.f = std::fopen(o.input.c_str(), "rb");
    if (in.f == nullptr) throw Failure("cannot open " + o.input + ": " + std::strerror(errno));
  }
  uint64_t first = 0, last = 0;
  Hash last_alh{};
  if (o.verify_only) {
    ScanFile(in.f, what, nullptr, &first, &last, &last_alh);
    if (last == 0) throw Failure(what + ": malformed backup file (no transaction)");
    std::cout << "Backup file contains transactions " << first << " - " << last << "\n";
    return;
  }

  auto c = SessionClient(s, true);
  bool exists = false, replica = false;
  for (const auto& d : Must(client::ListDatabases(*c))) {
    if (d.name != db) continue;
    exists = true;
    replica = d.settings.replicationsettings().replica().value();
  }
  uint64_t db_last = 0;
  Hash db_alh = EmptyHash();
  if (exists) {
    Must(c->UseDatabase(db));
    const client::State state = Must(c->CurrentState());
    db_last = state.tx_id;
    db_alh = state.tx_hash;
    if (db_last > 0 && !o.append) {
      throw Failure("cannot restore to non-empty database without --append flag");
    }
  }
  if (in.f != stdin) {
    // A file is checked whole, and against the database, before anything
    // is written (standard input is checked record by record below).
    Hash file_alh{};
    bool found = false;
    std::pair<uint64_t, Hash*> probe{db_last, &file_alh};
    ScanFile(in.f, what, nullptr, &first, &last, &last_alh, &probe);
    found = db_last >= first && db_last <= last;
    if (last == 0) throw Failure(what + ": malformed backup file (no transaction)");
    if (first > db_last + 1) {
      throw Failure("there is a gap of " + std::to_string(first - db_last - 1) +
                    " transaction(s) between database and file - restore not possible");
    }
    if (last < db_last) {
      throw Failure("the database's last transaction " + std::to_string(db_last) +
                    " is not in the file (it ends at tx " + std::to_string(last) + ")");
    }
    if (found && file_alh != db_alh) {
      throw Failure("checksums for tx " + std::to_string(db_last) +
                    " in backup file and database differ - cannot append data to the database");
    }
    if (db_last > 0 && !found && !o.force) {
      throw Failure("not possible to validate last transaction in DB - use --force to override");
    }
    std::rewind(in.f);
  }
  // replicateTx needs a replica. A new database is created as one and an
  // existing primary is switched with --force-replica; both are switched
  // back at the end. An existing replica stays one.
  bool switch_back = true;
  if (!exists) {
    schema::DatabaseNullableSettings settings;
    settings.mutable_replicationsettings()->mutable_replica()->set_value(true);
    Must(client::CreateDatabase(*c, db, settings));
    Must(c->UseDatabase(db));
  } else if (replica) {
    switch_back = false;
  } else if (o.force_replica) {
    SetReplica(*c, db, true);
  } else {
    throw Failure("database '" + db +
                  "' is not a replica: use --force-replica to switch it to replica mode for the "
                  "restore");
  }

  // From here on the database is a replica: make a switched one a primary
  // again however this ends.
  auto restore = [&] {
    uint64_t offset = 0, restored_first = 0, restored_last = 0;
    HotBackupRecord rec;
    Hash chain = db_alh;
    bool have_chain = db_last == 0;
    Progress progress("hot-restore", o.progress ? (last > db_last ? last - db_last : 0) : 0, true);
    uint64_t expect = 0;  // The next id in file order (0: the first record).
    while (Must(ReadHotBackupRecord(in.f, what, &offset, &rec))) {
      if (expect != 0 && rec.tx_id != expect) {
        throw Failure(what + ": incorrect transaction order in file (tx " +
                      std::to_string(rec.tx_id) + " after tx " + std::to_string(expect - 1) + ")");
      }
      expect = rec.tx_id + 1;
      if (rec.tx_id <= db_last) {
        if (rec.tx_id == db_last && rec.alh != db_alh) {
          throw Failure("checksums for tx " + std::to_string(db_last) +
                        " in backup file and database differ - cannot append data to the "
                        "database");
        }
        if (rec.tx_id == db_last) have_chain = true;
        continue;
      }
      if (restored_first == 0 && rec.tx_id > db_last + 1) {
        throw Failure("there is a gap of " + std::to_string(rec.tx_id - db_last - 1) +
                      " transaction(s) between database and file - restore not possible");
      }
      if (!have_chain) {
        if (!o.force) {
          throw Failure(
              "not possible to validate last transaction in DB - use --force to override");
        }
        have_chain = true;  // Still checked: the record must chain onto the database's Alh.
      }
      const std::string exported = Must(VerifyHotBackupRecord(rec, &chain));
      auto h = client::ReplicateTx(*c, exported);
      if (!h.ok()) {
        throw Failure(TxName(rec.tx_id) + " could not be restored: " + h.status().message());
      }
      if (Must(h->Alh()) != rec.alh) {
        throw Failure(TxName(rec.tx_id) + " was restored with another Alh than the backup's");
      }
      chain = rec.alh;
      if (restored_first == 0) restored_first = rec.tx_id;
      restored_last = rec.tx_id;
      progress.Update(restored_last - db_last);
    }
    if (restored_first == 0) {
      std::cout << "Target database is up-to-date, nothing restored\n";
    } else {
      std::cout << "Restored transactions " << restored_first << " - " << restored_last << "\n";
    }
  };
  try {
    restore();
  } catch (...) {
    try {
      if (switch_back) SetReplica(*c, db, false);
    } catch (const Failure& e) {
      std::cerr << "Error switching off replica mode for db: " << e.what() << "\n";
    }
    throw;
  }
  if (switch_back) SetReplica(*c, db, false);
}

}  // namespace immudb::admin
