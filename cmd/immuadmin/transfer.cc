// `immuadmin dump`, `backup` and `restore`: every transaction of a database,
// read with TxScan (RAW_VALUE) and written back with ExecAll.
#include <fcntl.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>

#include "client/admin.h"
#include "cmd/immuadmin/backup_file.h"
#include "cmd/immuadmin/cli.h"
#include "store/export.h"

namespace immudb::admin {
namespace {

constexpr uint32_t kBatch = 32;  // Transactions per TxScan call.

// Selects --db (when given) and returns the session's database state.
client::State SelectAndState(const Settings& s, client::Client& c) {
  if (!s.database.empty()) Must(c.UseDatabase(s.database));
  return Must(c.CurrentState());
}

// Reads transactions 1..last from the server, checks each (VerifyRawTx) and
// hands it to `fn`; the last Alh must equal the server's state.
template <class Fn>
void ForEachTx(client::Client& c, const client::State& state, Fn fn) {
  Hash alh = EmptyHash();
  uint64_t next = 1;
  while (next <= state.tx_id) {
    const uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(kBatch, state.tx_id - next + 1));
    auto txs = Must(client::ScanRawTxs(c, next, n));
    if (txs.empty())
      throw Failure("server returned no transaction from tx " + std::to_string(next));
    for (client::RawTx& tx : txs) {
      if (next > state.tx_id) break;
      auto verified = VerifyRawTx(tx, next, alh);
      if (!verified.ok())
        throw Failure("server data does not verify: " + verified.status().message());
      alh = *verified;
      fn(tx);
      ++next;
    }
  }
  if (alh != state.tx_hash) {
    throw Failure("the transactions read do not lead to the server's state at tx " +
                  std::to_string(state.tx_id));
  }
}

std::string Time(int64_t ts) {
  char buf[64];
  const time_t t = static_cast<time_t>(ts);
  struct tm tm_buf;
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S %Z", localtime_r(&t, &tm_buf));
  return buf;
}

std::string Md(const KVMetadata& md) {
  std::string out;
  if (md.deleted) out += " [deleted]";
  if (md.expires_at) out += " [expires " + Time(*md.expires_at) + "]";
  if (md.non_indexable) out += " [non-indexable]";
  return out;
}

void PrintEntry(std::ostream& out, const client::RawEntry& e) {
  auto op = client::OpFromStored(e);
  if (!op.ok()) {
    out << "  raw   " << ToHex(e.entry.key) << " = " << ToHex(e.value) << "\n";
    return;
  }
  if (op->has_kv()) {
    const schema::KeyValue& kv = op->kv();
    if (e.entry.md.deleted) {
      out << "  del   " << Printable(kv.key()) << Md(e.entry.md) << "\n";
    } else {
      out << "  set   " << Printable(kv.key()) << " = " << Printable(kv.value()) << Md(e.entry.md)
          << "\n";
    }
  } else if (op->has_ref()) {
    out << "  ref   " << Printable(op->ref().key()) << " -> "
        << Printable(op->ref().referencedkey());
    if (op->ref().attx() > 0) out << " @tx " << op->ref().attx();
    out << "\n";
  } else {
    const schema::ZAddRequest& z = op->zadd();
    out << "  zadd  " << Printable(z.set()) << " " << z.score() << " " << Printable(z.key());
    if (z.attx() > 0) out << " @tx " << z.attx();
    out << "\n";
  }
}

}  // namespace

void Dump(const Settings& s, const std::string& file) {
  auto c = SessionClient(s, true);
  const client::State state = SelectAndState(s, *c);
  if (state.tx_id == 0) {
    std::cout << "database '" << c->database() << "' is empty\n";
    return;
  }
  std::ofstream to_file;
  if (!file.empty()) {
    // Created here (never an existing file), 0600 like the other backups.
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) throw Failure("cannot create " + file + ": " + std::strerror(errno));
    ::close(fd);
    to_file.open(file, std::ios::binary | std::ios::trunc);
    if (!to_file) throw Failure("cannot open " + file);
  }
  std::ostream& out = file.empty() ? std::cout : to_file;
  try {
    out << "database: " << c->database() << "\n";
    ForEachTx(*c, state, [&out](const client::RawTx& tx) {
      out << "tx " << tx.header.id << "  " << Time(tx.header.ts) << "  " << tx.entries.size()
          << (tx.entries.size() == 1 ? " entry" : " entries") << "\n";
      for (const client::RawEntry& e : tx.entries) PrintEntry(out, e);
    });
    out << "transactions: " << state.tx_id << "\nhash:         " << ToHex(state.tx_hash) << "\n";
    if (!file.empty()) {
      to_file.close();
      if (!to_file) throw Failure("cannot write " + file);
    }
  } catch (...) {
    if (!file.empty()) ::unlink(file.c_str());
    throw;
  }
  if (!file.empty()) {
    std::cout << "database '" << c->database() << "': " << state.tx_id << " transactions dumped to "
              << file << "\n";
  }
}

void Backup(const Settings& s, const std::string& file) {
  if (s.database.empty()) throw Failure("--db is required");
  auto c = SessionClient(s, true);
  const client::State state = SelectAndState(s, *c);
  auto writer = Must(BackupWriter::Create(file, s.database));
  Progress progress("backup", state.tx_id);
  uint64_t done = 0;
  ForEachTx(*c, state, [&](const client::RawTx& tx) {
    Must(writer->Append(tx));
    progress.Update(++done);
  });
  Must(writer->Finish(state.tx_id, state.tx_hash));
  std::cout << "backup of '" << s.database << "': " << state.tx_id << " transactions, "
            << writer->bytes_written() << " bytes written to " << file << "\n"
            << "last tx " << state.tx_id << ", alh " << ToHex(state.tx_hash) << "\n";
}

void Restore(const Settings& s, const std::string& file) {
  if (s.database.empty()) throw Failure("--db is required");
  // Pass 1: the whole file must verify before anything is written.
  uint64_t total = 0;
  std::string source_db;
  Hash last_alh = EmptyHash();
  {
    auto reader = Must(BackupReader::Open(file));
    source_db = reader->database();
    client::RawTx tx;
    Progress progress("verify ", 0);
    while (Must(reader->Next(&tx))) {
    }
    total = reader->tx_count();
    last_alh = reader->last_alh();
  }
  std::cout << "verified " << total << " transactions of '" << source_db << "' in " << file << "\n";

  // Pass 2: the transactions go in with their original headers (replicateTx
  // into the database as a replica), so the restored database has the
  // source's Alh chain; then it becomes an ordinary database again.
  auto c = SessionClient(s, true);
  bool existed = false;
  schema::DatabaseNullableSettings replica;
  replica.mutable_replicationsettings()->mutable_replica()->set_value(true);
  Must(client::CreateDatabase(*c, s.database, replica, true, &existed));
  Must(c->UseDatabase(s.database));
  if (existed) {
    if (Must(c->CurrentState()).tx_id != 0) {
      throw Failure("database '" + s.database +
                    "' is not empty: restore needs a new or empty database");
    }
    Must(client::UpdateDatabase(*c, s.database, replica));
    Must(client::UnloadDatabase(*c, s.database));
    Must(client::LoadDatabase(*c, s.database));
    Must(c->UseDatabase(s.database));
  }
  auto reader = Must(BackupReader::Open(file));
  Progress progress("restore", total);
  client::RawTx tx;
  uint64_t done = 0;
  while (Must(reader->Next(&tx))) {
    std::vector<EntrySpec> entries;
    entries.reserve(tx.entries.size());
    for (client::RawEntry& e : tx.entries) {
      entries.push_back(EntrySpec{e.entry.key, std::move(e.value), e.entry.md});
    }
    const std::string exported = Must(store::EncodeExportedTx(tx.header, entries));
    auto h = client::ReplicateTx(*c, exported);
    if (!h.ok()) {
      throw Failure("tx " + std::to_string(tx.header.id) +
                    " could not be restored: " + h.status().message());
    }
    progress.Update(++done);
  }
  if (reader->tx_count() != total) throw Failure(file + " changed while restoring");
  const auto state = Must(c->CurrentState());
  if (state.tx_id != total || state.tx_hash != last_alh) {
    throw Failure("the restored database '" + s.database + "' ends at tx " +
                  std::to_string(state.tx_id) + " with another Alh than the backup");
  }
  schema::DatabaseNullableSettings primary;
  primary.mutable_replicationsettings()->mutable_replica()->set_value(false);
  Must(client::UpdateDatabase(*c, s.database, primary));
  Must(client::UnloadDatabase(*c, s.database));
  Must(client::LoadDatabase(*c, s.database));
  std::cout << "restored " << total << " transactions into '" << s.database << "' (last tx "
            << state.tx_id << ", alh " << ToHex(state.tx_hash) << ", as in the backup)\n";
}

}  // namespace immudb::admin
