// Exported transactions (export.h, docs/format/exported-tx.md).
#include "store/export.h"

#include <algorithm>

#include "util/coding.h"

namespace immudb::store {

namespace {

void PutU16(std::string* out, uint16_t v) {
  uint8_t b[2] = {static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
  out->append(reinterpret_cast<const char*>(b), 2);
}

void PutU32(std::string* out, uint32_t v) {
  uint8_t b[4];
  PutU32BE(b, v);
  out->append(reinterpret_cast<const char*>(b), 4);
}

void PutU64(std::string* out, uint64_t v) {
  uint8_t b[8];
  PutU64BE(b, v);
  out->append(reinterpret_cast<const char*>(b), 8);
}

void PutHash(std::string* out, const Hash& h) {
  out->append(reinterpret_cast<const char*>(h.data()), h.size());
}

// Reads big-endian fields from a byte string, failing once past its end.
class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}
  bool U16(uint16_t* v) {
    if (!Has(2)) return false;
    *v = static_cast<uint16_t>((static_cast<uint8_t>(b_[pos_]) << 8) |
                               static_cast<uint8_t>(b_[pos_ + 1]));
    pos_ += 2;
    return true;
  }
  bool U32(uint32_t* v) {
    if (!Has(4)) return false;
    *v = GetU32BE(reinterpret_cast<const uint8_t*>(b_.data() + pos_));
    pos_ += 4;
    return true;
  }
  bool U64(uint64_t* v) {
    if (!Has(8)) return false;
    *v = GetU64BE(reinterpret_cast<const uint8_t*>(b_.data() + pos_));
    pos_ += 8;
    return true;
  }
  bool HashField(Hash* h) {
    if (!Has(h->size())) return false;
    std::copy_n(b_.data() + pos_, h->size(), reinterpret_cast<char*>(h->data()));
    pos_ += h->size();
    return true;
  }
  bool Bytes(size_t n, std::string_view* out) {
    if (!Has(n)) return false;
    *out = b_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  size_t left() const { return b_.size() - pos_; }

 private:
  bool Has(size_t n) const { return b_.size() - pos_ >= n; }
  std::string_view b_;
  size_t pos_ = 0;
};

Status Malformed(const std::string& what) {
  return Status::InvalidArgument("malformed exported transaction: " + what);
}

}  // namespace

Result<std::string> EncodeExportedTx(const TxHeader& h, const std::vector<EntrySpec>& entries) {
  if (h.version > 1) return Status::InvalidArgument("unsupported tx header version");
  if (h.nentries != entries.size()) {
    return Status::InvalidArgument("tx header counts another number of entries");
  }
  if (h.version == 0 && entries.size() > 0xffff) {
    return Status::InvalidArgument("a version 0 tx holds at most 65535 entries");
  }
  std::string hdr;
  PutU64(&hdr, h.id);
  PutHash(&hdr, h.prev_alh);
  PutU64(&hdr, static_cast<uint64_t>(h.ts));
  PutU16(&hdr, h.version);
  if (h.version == 0) {
    PutU16(&hdr, static_cast<uint16_t>(h.nentries));
  } else {
    PutU16(&hdr, 0);  // No tx metadata.
    PutU32(&hdr, h.nentries);
  }
  PutHash(&hdr, h.eh);
  PutU64(&hdr, h.bl_tx_id);
  PutHash(&hdr, h.bl_root);

  std::string out;
  PutU32(&out, static_cast<uint32_t>(hdr.size()));
  out += hdr;
  for (const EntrySpec& e : entries) {
    const std::string md = e.md.Encode();
    if (e.key.size() > 0xffff || md.size() > 0xffff || e.value.size() > 0xffffffffull) {
      return Status::InvalidArgument("entry does not fit an exported transaction");
    }
    PutU16(&out, static_cast<uint16_t>(e.key.size()));
    out += e.key;
    PutU16(&out, static_cast<uint16_t>(md.size()));
    out += md;
    PutU32(&out, static_cast<uint32_t>(e.value.size()));
    out += e.value;
  }
  // Trailer: one flag byte, 0 = the values are included.
  PutU16(&out, 1);
  out.push_back('\0');
  return out;
}

Result<std::string> ExportTx(const Store& store, uint64_t id) {
  IMMUDB_ASSIGN_OR_RETURN(Tx tx, store.ReadTx(id));
  std::vector<EntrySpec> entries;
  entries.reserve(tx.entries.size());
  for (const TxEntry& e : tx.entries) {
    // A tx whose values truncation discarded cannot be exported: its copy
    // could not be committed (or verified) without them.
    auto value = store.ReadValue(e);
    if (!value.ok()) return value.status().WithPrefix("cannot export tx " + std::to_string(id));
    entries.push_back(EntrySpec{e.key, std::move(value).value(), e.md});
  }
  return EncodeExportedTx(tx.header, entries);
}

Result<ExportedTx> DecodeExportedTx(std::string_view bytes) {
  Reader r(bytes);
  uint32_t hdr_len = 0;
  std::string_view hdr_bytes;
  if (!r.U32(&hdr_len) || !r.Bytes(hdr_len, &hdr_bytes)) return Malformed("header past the end");
  ExportedTx x;
  TxHeader& h = x.header;
  Reader hr(hdr_bytes);
  uint64_t ts = 0;
  if (!hr.U64(&h.id) || !hr.HashField(&h.prev_alh) || !hr.U64(&ts) || !hr.U16(&h.version)) {
    return Malformed("short header");
  }
  h.ts = static_cast<int64_t>(ts);
  if (h.id == 0) return Malformed("tx id 0");
  if (h.version == 0) {
    uint16_t n = 0;
    if (!hr.U16(&n)) return Malformed("short header");
    h.nentries = n;
  } else if (h.version == 1) {
    uint16_t md_len = 0;
    std::string_view md;
    if (!hr.U16(&md_len) || !hr.Bytes(md_len, &md)) return Malformed("short header");
    if (md_len != 0) {
      return Status::Unimplemented("transactions with tx metadata are not supported");
    }
    if (!hr.U32(&h.nentries)) return Malformed("short header");
  } else {
    return Malformed("unsupported tx header version " + std::to_string(h.version));
  }
  if (!hr.HashField(&h.eh) || !hr.U64(&h.bl_tx_id) || !hr.HashField(&h.bl_root)) {
    return Malformed("short header");
  }
  if (hr.left() != 0) return Malformed("trailing header bytes");
  if (h.nentries == 0) return Malformed("no entries");
  if (h.bl_tx_id >= h.id) return Malformed("BlTxID not below the tx id");
  // Each entry takes at least 8 bytes: never reserve more than the input allows.
  if (h.nentries > r.left() / 8) return Malformed("more entries than bytes");
  x.entries.reserve(h.nentries);
  for (uint32_t i = 0; i < h.nentries; i++) {
    uint16_t klen = 0, mdlen = 0;
    uint32_t vlen = 0;
    std::string_view key, md, value;
    if (!r.U16(&klen) || !r.Bytes(klen, &key) || !r.U16(&mdlen) || !r.Bytes(mdlen, &md) ||
        !r.U32(&vlen) || !r.Bytes(vlen, &value)) {
      return Malformed("entry " + std::to_string(i) + " past the end");
    }
    auto kv_md = KVMetadata::Decode(md);
    if (!kv_md.ok()) return Malformed("entry " + std::to_string(i) + ": bad KV metadata");
    x.entries.push_back(EntrySpec{std::string(key), std::string(value), *kv_md});
  }
  if (r.left() > 0) {
    uint16_t flag_len = 0;
    std::string_view flag;
    if (!r.U16(&flag_len) || !r.Bytes(flag_len, &flag)) return Malformed("trailer past the end");
    if (!flag.empty() && static_cast<uint8_t>(flag[0]) > 1) return Malformed("bad trailer flag");
    if (!flag.empty() && flag[0] == 1) {
      return Status::Unimplemented("transactions exported without their values are not supported");
    }
  }
  if (r.left() != 0) return Malformed("trailing bytes");
  return x;
}

}  // namespace immudb::store
