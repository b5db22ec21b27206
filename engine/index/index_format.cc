// Encoding of index keys and records. See docs/format/index.md.
#include "index/index_format.h"

#include "util/coding.h"

namespace immudb::index {

void LatestKeyTo(std::string_view key, std::string* out) {
  out->clear();
  out->push_back(kLatestTag);
  out->append(key);
}

std::string LatestKey(std::string_view key) {
  std::string k;
  k.reserve(1 + key.size());
  LatestKeyTo(key, &k);
  return k;
}

std::string HistoryPrefix(std::string_view key) {
  std::string k;
  k.reserve(1 + 4 + key.size() + 8);
  k.push_back(kHistoryTag);
  AppendU32BE(&k, static_cast<uint32_t>(key.size()));
  k.append(key);
  return k;
}

void HistoryKeyTo(std::string_view key, uint64_t revision, std::string* out) {
  out->clear();
  out->push_back(kHistoryTag);
  AppendU32BE(out, static_cast<uint32_t>(key.size()));
  out->append(key);
  AppendU64BE(out, revision);
}

std::string HistoryKey(std::string_view key, uint64_t revision) {
  std::string k;
  k.reserve(1 + 4 + key.size() + 8);
  HistoryKeyTo(key, revision, &k);
  return k;
}

void EncodeRecordFieldsTo(uint64_t tx, uint32_t index, uint64_t revision, const TxEntry& entry,
                          const char* value, std::string* r) {
  const std::string md = entry.md.Encode();  // At most 11 bytes: no allocation.
  r->clear();
  AppendU64BE(r, tx);
  AppendU32BE(r, index);
  AppendU64BE(r, revision);
  AppendU8(r, static_cast<uint8_t>(md.size()));
  r->append(md);
  r->append(reinterpret_cast<const char*>(entry.hval.data()), entry.hval.size());
  AppendU32BE(r, entry.vlen);
  AppendU64BE(r, entry.voff);
  if (value != nullptr && entry.vlen > 0) r->append(value, entry.vlen);
}

void EncodeRecordTo(const IndexedEntry& e, std::string* r) {
  const bool inline_value = e.value_inline && e.entry.vlen > 0 && e.value.size() == e.entry.vlen;
  EncodeRecordFieldsTo(e.tx, e.index, e.revision, e.entry, inline_value ? e.value.data() : nullptr,
                       r);
}

std::string EncodeRecord(const IndexedEntry& e) {
  std::string r;
  r.reserve(kRecordFixedSize + 16);
  EncodeRecordTo(e, &r);
  return r;
}

namespace {

// The length of the inline value of a record of `size` bytes (0: a plain
// record), or -1 when the size fits neither form.
int64_t InlineLength(const uint8_t* p, size_t size) {
  if (size < kRecordFixedSize) return -1;
  const size_t plain = kRecordFixedSize + p[20];
  if (size == plain) return 0;
  if (size < plain) return -1;
  const uint32_t vlen = GetU32BE(p + 21 + p[20] + 32);
  return vlen > 0 && size - plain == vlen ? int64_t{vlen} : -1;
}

}  // namespace

Result<uint64_t> DecodeRevision(std::string_view bytes) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  if (InlineLength(p, bytes.size()) < 0) {
    return Status::Corruption("index record has a bad length");
  }
  return GetU64BE(p + 12);
}

Status DecodeRecord(std::string_view key, std::string_view bytes, IndexedEntry* e) {
  if (bytes.size() < kRecordFixedSize) {
    return Status::Corruption("index record too short");
  }
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  const size_t mdlen = p[20];
  const int64_t inline_len = InlineLength(p, bytes.size());
  if (inline_len < 0) return Status::Corruption("index record has a bad length");
  e->tx = GetU64BE(p);
  e->index = GetU32BE(p + 8);
  e->revision = GetU64BE(p + 12);
  auto md = KVMetadata::Decode(bytes.substr(21, mdlen));
  if (!md.ok()) return md.status().WithPrefix("index record metadata");
  e->entry.key.assign(key);
  e->entry.md = *md;
  const uint8_t* q = p + 21 + mdlen;
  std::copy(q, q + 32, e->entry.hval.begin());
  e->entry.vlen = GetU32BE(q + 32);
  e->entry.voff = GetU64BE(q + 36);
  e->value_inline = inline_len > 0;
  if (e->value_inline) {
    e->value.assign(reinterpret_cast<const char*>(q + 44), static_cast<size_t>(inline_len));
  } else {
    e->value.clear();
  }
  return Status::OK();
}

}  // namespace immudb::index
