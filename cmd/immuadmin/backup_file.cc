#include "cmd/immuadmin/backup_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "util/coding.h"
#include "util/crc32c.h"

namespace immudb::admin {
namespace {

constexpr size_t kMagicLen = 8;
constexpr size_t kTxHeaderLen = 8 + 8 + 2 + 4 + 32 + 8 + 32 + 32;

std::string TxName(uint64_t id) { return "tx " + std::to_string(id); }

void AppendHash(std::string* s, const Hash& h) {
  s->append(reinterpret_cast<const char*>(h.data()), h.size());
}

uint32_t RecordCrc(uint8_t kind, const std::string& len_bytes, const std::string& payload) {
  uint32_t crc = crc32c::Extend(0, &kind, 1);
  crc = crc32c::Extend(crc, len_bytes.data(), len_bytes.size());
  return crc32c::Mask(crc32c::Extend(crc, payload.data(), payload.size()));
}

std::string EncodeTx(const client::RawTx& tx) {
  std::string p;
  const TxHeader& h = tx.header;
  AppendU64BE(&p, h.id);
  AppendU64BE(&p, static_cast<uint64_t>(h.ts));
  AppendU16BE(&p, h.version);
  AppendU32BE(&p, h.nentries);
  AppendHash(&p, h.eh);
  AppendU64BE(&p, h.bl_tx_id);
  AppendHash(&p, h.bl_root);
  AppendHash(&p, h.prev_alh);
  for (const client::RawEntry& e : tx.entries) {
    const std::string md = e.entry.md.Encode();
    AppendU16BE(&p, static_cast<uint16_t>(e.entry.key.size()));
    p += e.entry.key;
    AppendU8(&p, static_cast<uint8_t>(md.size()));
    p += md;
    AppendU32BE(&p, static_cast<uint32_t>(e.value.size()));
    p += e.value;
  }
  return p;
}

// A cursor over a record payload; every Take fails past the end.
class Cursor {
 public:
  explicit Cursor(const std::string& s) : s_(s) {}
  bool Take(size_t n, std::string_view* out) {
    if (s_.size() - pos_ < n) return false;
    *out = std::string_view(s_).substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool U8(uint8_t* v) {
    std::string_view b;
    if (!Take(1, &b)) return false;
    *v = static_cast<uint8_t>(b[0]);
    return true;
  }
  bool U16(uint16_t* v) {
    std::string_view b;
    if (!Take(2, &b)) return false;
    *v = GetU16BE(reinterpret_cast<const uint8_t*>(b.data()));
    return true;
  }
  bool U32(uint32_t* v) {
    std::string_view b;
    if (!Take(4, &b)) return false;
    *v = GetU32BE(reinterpret_cast<const uint8_t*>(b.data()));
    return true;
  }
  bool U64(uint64_t* v) {
    std::string_view b;
    if (!Take(8, &b)) return false;
    *v = GetU64BE(reinterpret_cast<const uint8_t*>(b.data()));
    return true;
  }
  bool HashAt(Hash* h) {
    std::string_view b;
    if (!Take(32, &b)) return false;
    std::memcpy(h->data(), b.data(), 32);
    return true;
  }
  bool done() const { return pos_ == s_.size(); }

 private:
  const std::string& s_;
  size_t pos_ = 0;
};

Result<client::RawTx> DecodeTx(const std::string& payload) {
  Cursor c(payload);
  client::RawTx tx;
  TxHeader& h = tx.header;
  uint64_t ts = 0;
  if (!c.U64(&h.id) || !c.U64(&ts) || !c.U16(&h.version) || !c.U32(&h.nentries) ||
      !c.HashAt(&h.eh) || !c.U64(&h.bl_tx_id) || !c.HashAt(&h.bl_root) || !c.HashAt(&h.prev_alh)) {
    return Status::Corruption("short transaction header");
  }
  h.ts = static_cast<int64_t>(ts);
  const std::string name = TxName(h.id);
  while (!c.done()) {
    uint16_t key_len = 0;
    uint8_t md_len = 0;
    uint32_t value_len = 0;
    std::string_view key, md, value;
    if (!c.U16(&key_len) || !c.Take(key_len, &key) || !c.U8(&md_len) || !c.Take(md_len, &md) ||
        !c.U32(&value_len) || !c.Take(value_len, &value)) {
      return Status::Corruption(name + ": truncated entry " + std::to_string(tx.entries.size()));
    }
    client::RawEntry e;
    e.entry.key = std::string(key);
    auto decoded = KVMetadata::Decode(md);
    if (!decoded.ok()) {
      return Status::Corruption(name + ": bad KV metadata of entry " +
                                std::to_string(tx.entries.size()));
    }
    e.entry.md = *decoded;
    e.value = std::string(value);
    tx.entries.push_back(std::move(e));
  }
  return tx;
}

}  // namespace

Result<Hash> VerifyRawTx(const client::RawTx& tx, uint64_t expected_id, const Hash& prev_alh) {
  const TxHeader& h = tx.header;
  const std::string name = TxName(h.id);
  if (h.id != expected_id) {
    return Status::Corruption(name + ": expected tx " + std::to_string(expected_id));
  }
  if (h.prev_alh != prev_alh) {
    return Status::Corruption(name + ": prevAlh does not match the Alh of the previous tx");
  }
  if (h.nentries != tx.entries.size()) {
    return Status::Corruption(name + ": header says " + std::to_string(h.nentries) +
                              " entries, found " + std::to_string(tx.entries.size()));
  }
  std::vector<TxEntry> entries;
  entries.reserve(tx.entries.size());
  for (size_t i = 0; i < tx.entries.size(); ++i) {
    TxEntry e = tx.entries[i].entry;
    const Hash hval = Sha256Of(tx.entries[i].value);
    // Values read from a server carry its hash and length; they must agree.
    if (e.hval != Hash{} && e.hval != hval) {
      return Status::Corruption(name + ": value of entry " + std::to_string(i) +
                                " does not match its hash");
    }
    if (e.vlen != 0 && e.vlen != tx.entries[i].value.size()) {
      return Status::Corruption(name + ": value of entry " + std::to_string(i) +
                                " has the wrong length");
    }
    e.hval = hval;
    e.vlen = static_cast<uint32_t>(tx.entries[i].value.size());
    entries.push_back(std::move(e));
  }
  auto eh = ComputeEh(h.version, entries);
  if (!eh.ok()) return Status::Corruption(name + ": " + eh.status().message());
  if (*eh != h.eh) {
    return Status::Corruption(name + ": entries do not match the header's Eh");
  }
  auto alh = h.Alh();
  if (!alh.ok()) return Status::Corruption(name + ": " + alh.status().message());
  return *alh;
}

// ---- BackupWriter ----

Result<std::unique_ptr<BackupWriter>> BackupWriter::Create(const std::string& path,
                                                           const std::string& db) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    return Status::AlreadyExists(path + " already exists");
  }
  if (db.size() > 0xffff) return Status::InvalidArgument("database name too long");
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  std::FILE* f = fd >= 0 ? ::fdopen(fd, "wb") : nullptr;
  if (f == nullptr && fd >= 0) ::close(fd);
  if (f == nullptr) return Status::IOError("cannot create " + tmp + ": " + std::strerror(errno));
  std::unique_ptr<BackupWriter> w(new BackupWriter(path, f));
  std::string head(kBackupMagic, kMagicLen);
  AppendU32BE(&head, kBackupVersion);
  AppendU16BE(&head, static_cast<uint16_t>(db.size()));
  head += db;
  AppendU32BE(&head, crc32c::Mask(crc32c::Value(head.data(), head.size())));
  if (std::fwrite(head.data(), 1, head.size(), f) != head.size()) {
    return Status::IOError("cannot write " + tmp);
  }
  w->bytes_ = head.size();
  return w;
}

BackupWriter::~BackupWriter() {
  if (f_ != nullptr) std::fclose(f_);
  if (!finished_) ::unlink((path_ + ".tmp").c_str());
}

Status BackupWriter::WriteRecord(uint8_t kind, const std::string& payload) {
  if (payload.size() > kMaxRecordLen) return Status::InvalidArgument("record too large");
  std::string len;
  AppendU32BE(&len, static_cast<uint32_t>(payload.size()));
  std::string crc;
  AppendU32BE(&crc, RecordCrc(kind, len, payload));
  bool ok = std::fputc(kind, f_) != EOF;
  ok = ok && std::fwrite(len.data(), 1, 4, f_) == 4;
  ok = ok && std::fwrite(payload.data(), 1, payload.size(), f_) == payload.size();
  ok = ok && std::fwrite(crc.data(), 1, 4, f_) == 4;
  if (!ok) return Status::IOError("cannot write " + path_ + ".tmp");
  bytes_ += 1 + 4 + payload.size() + 4;
  return Status::OK();
}

Status BackupWriter::Append(const client::RawTx& tx) {
  for (const client::RawEntry& e : tx.entries) {
    if (e.entry.key.size() > 0xffff) return Status::InvalidArgument("key too long for a backup");
  }
  return WriteRecord(kRecordTx, EncodeTx(tx));
}

Status BackupWriter::Finish(uint64_t tx_count, const Hash& last_alh) {
  std::string p;
  AppendU64BE(&p, tx_count);
  AppendHash(&p, last_alh);
  IMMUDB_RETURN_IF_ERROR(WriteRecord(kRecordEnd, p));
  const std::string tmp = path_ + ".tmp";
  bool ok = std::fflush(f_) == 0 && ::fsync(fileno(f_)) == 0;
  ok = std::fclose(f_) == 0 && ok;
  f_ = nullptr;
  if (!ok) return Status::IOError("cannot sync " + tmp);
  if (::rename(tmp.c_str(), path_.c_str()) != 0) {
    return Status::IOError("cannot rename " + tmp + " to " + path_);
  }
  finished_ = true;
  return Status::OK();
}

// ---- BackupReader ----

Result<std::unique_ptr<BackupReader>> BackupReader::Open(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return Status::NotFound("cannot open " + path + ": " + std::strerror(errno));
  std::unique_ptr<BackupReader> r(new BackupReader(path, f));
  struct stat st;
  if (::fstat(fileno(f), &st) == 0) r->size_ = static_cast<uint64_t>(st.st_size);
  std::string head(kMagicLen, '\0');
  if (!r->ReadExact(head.data(), kMagicLen, "file header").ok() ||
      head.compare(0, kMagicLen, kBackupMagic, kMagicLen) != 0) {
    return Status::InvalidArgument(path + " is not an immudb backup file");
  }
  head.resize(kMagicLen + 6);
  IMMUDB_RETURN_IF_ERROR(r->ReadExact(head.data() + kMagicLen, 6, "file header"));
  const auto* p = reinterpret_cast<const uint8_t*>(head.data());
  const uint32_t version = GetU32BE(p + kMagicLen);
  if (version != kBackupVersion) {
    return Status::InvalidArgument(path + ": backup format version " + std::to_string(version) +
                                   " is not supported");
  }
  const uint16_t db_len = GetU16BE(p + kMagicLen + 4);
  std::string rest(db_len + 4u, '\0');
  IMMUDB_RETURN_IF_ERROR(r->ReadExact(rest.data(), rest.size(), "file header"));
  head += rest.substr(0, db_len);
  const uint32_t crc = GetU32BE(reinterpret_cast<const uint8_t*>(rest.data()) + db_len);
  if (crc32c::Mask(crc32c::Value(head.data(), head.size())) != crc) {
    return Status::Corruption(path + ": file header checksum mismatch");
  }
  r->db_ = rest.substr(0, db_len);
  return r;
}

BackupReader::~BackupReader() {
  if (f_ != nullptr) std::fclose(f_);
}

Status BackupReader::ReadExact(void* buf, size_t n, const char* what) {
  if (std::fread(buf, 1, n, f_) != n) {
    return Status::Corruption(path_ + ": truncated " + std::string(what) + " at offset " +
                              std::to_string(offset_));
  }
  offset_ += n;
  return Status::OK();
}

Result<bool> BackupReader::Next(client::RawTx* tx) {
  if (done_) return false;
  const uint64_t at = offset_;
  const std::string what = "record after " + TxName(count_);
  uint8_t head[5];
  IMMUDB_RETURN_IF_ERROR(ReadExact(head, sizeof(head), what.c_str()));
  const uint8_t kind = head[0];
  const uint32_t len = GetU32BE(head + 1);
  if ((kind != kRecordTx && kind != kRecordEnd) || len > kMaxRecordLen || len > size_ - offset_) {
    return Status::Corruption(path_ + ": bad " + what + " at offset " + std::to_string(at));
  }
  std::string payload(len, '\0');
  IMMUDB_RETURN_IF_ERROR(ReadExact(payload.data(), len, what.c_str()));
  uint8_t crc_bytes[4];
  IMMUDB_RETURN_IF_ERROR(ReadExact(crc_bytes, 4, what.c_str()));
  const std::string len_bytes(reinterpret_cast<const char*>(head + 1), 4);
  if (RecordCrc(kind, len_bytes, payload) != GetU32BE(crc_bytes)) {
    const std::string which = kind == kRecordTx ? TxName(count_ + 1) : "trailer";
    return Status::Corruption(path_ + ": " + which + ": checksum mismatch at offset " +
                              std::to_string(at));
  }
  if (kind == kRecordEnd) {
    Cursor c(payload);
    uint64_t count = 0;
    Hash alh;
    if (!c.U64(&count) || !c.HashAt(&alh) || !c.done()) {
      return Status::Corruption(path_ + ": malformed trailer");
    }
    if (count != count_ || alh != alh_) {
      return Status::Corruption(path_ + ": trailer does not match the transactions read (" +
                                std::to_string(count) + " expected, " + std::to_string(count_) +
                                " read)");
    }
    if (offset_ != size_) return Status::Corruption(path_ + ": data after the trailer");
    done_ = true;
    return false;
  }
  auto decoded = DecodeTx(payload);
  if (!decoded.ok()) {
    return decoded.status().WithPrefix(path_ + ": " + TxName(count_ + 1));
  }
  auto alh = VerifyRawTx(*decoded, count_ + 1, alh_);
  if (!alh.ok()) return alh.status().WithPrefix(path_);
  alh_ = *alh;
  ++count_;
  *tx = std::move(decoded).value();
  return true;
}

}  // namespace immudb::admin
