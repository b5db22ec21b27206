#include "store/log_format.h"

#include <algorithm>
#include <cstring>

#include "util/coding.h"
#include "util/crc32c.h"

namespace immudb::store {

namespace {

Hash ReadHash(const uint8_t* p) {
  Hash h;
  std::memcpy(h.data(), p, kHashSize);
  return h;
}

}  // namespace

void EncodeTxHeader(const TxHeader& h, std::string* dst) {
  // Grown once, then written in place.
  const size_t at = dst->size();
  dst->resize(at + kTxHeaderSize);
  uint8_t* p = reinterpret_cast<uint8_t*>(dst->data()) + at;
  PutU64BE(p, h.id);
  PutU64BE(p + 8, static_cast<uint64_t>(h.ts));
  PutU16BE(p + 16, h.version);
  PutU32BE(p + 18, h.nentries);
  PutU64BE(p + 22, h.bl_tx_id);
  std::memcpy(p + 30, h.bl_root.data(), kHashSize);
  std::memcpy(p + 30 + kHashSize, h.prev_alh.data(), kHashSize);
  std::memcpy(p + 30 + 2 * kHashSize, h.eh.data(), kHashSize);
}

void EncodeTxEntry(const TxEntry& e, std::string* dst) {
  uint8_t md[kMaxKVMetadataLen];
  const size_t md_len = e.md.EncodeTo(md);
  const size_t at = dst->size();
  dst->resize(at + 2 + e.key.size() + 1 + md_len + 4 + 8 + kHashSize);
  uint8_t* p = reinterpret_cast<uint8_t*>(dst->data()) + at;
  PutU16BE(p, static_cast<uint16_t>(e.key.size()));
  p += 2;
  if (!e.key.empty()) std::memcpy(p, e.key.data(), e.key.size());
  p += e.key.size();
  *p++ = static_cast<uint8_t>(md_len);
  if (md_len > 0) std::memcpy(p, md, md_len);
  p += md_len;
  PutU32BE(p, e.vlen);
  PutU64BE(p + 4, e.voff);
  std::memcpy(p + 12, e.hval.data(), kHashSize);
}

std::string FrameTxRecord(std::string_view payload) {
  std::string rec;
  rec.reserve(kTxRecordPrefixSize + payload.size());
  AppendU32BE(&rec, static_cast<uint32_t>(payload.size()));
  AppendU32BE(&rec, crc32c::Mask(crc32c::Value(payload.data(), payload.size())));
  rec.append(payload);
  return rec;
}

Result<TxHeader> DecodeTxHeader(std::string_view payload) {
  if (payload.size() < kTxHeaderSize) return Status::Corruption("tx header too short");
  const auto* p = reinterpret_cast<const uint8_t*>(payload.data());
  TxHeader h;
  h.id = GetU64BE(p);
  h.ts = static_cast<int64_t>(GetU64BE(p + 8));
  h.version = GetU16BE(p + 16);
  h.nentries = GetU32BE(p + 18);
  h.bl_tx_id = GetU64BE(p + 22);
  h.bl_root = ReadHash(p + 30);
  h.prev_alh = ReadHash(p + 62);
  h.eh = ReadHash(p + 94);
  return h;
}

Result<Tx> DecodeTxPayload(std::string_view payload) {
  Tx tx;
  IMMUDB_ASSIGN_OR_RETURN(tx.header, DecodeTxHeader(payload));
  const auto* p = reinterpret_cast<const uint8_t*>(payload.data());
  size_t pos = kTxHeaderSize;
  const size_t n = payload.size();
  // Each entry takes at least kTxEntryFixedSize bytes: bound the count before
  // reserving so a damaged count cannot ask for a huge allocation.
  if (tx.header.nentries > (n - pos) / kTxEntryFixedSize) {
    return Status::Corruption("tx entry count exceeds record size");
  }
  tx.entries.resize(tx.header.nentries);
  for (TxEntry& e : tx.entries) {
    if (n - pos < 2) return Status::Corruption("truncated tx entry");
    size_t klen = GetU16BE(p + pos);
    pos += 2;
    if (n - pos < klen + 1) return Status::Corruption("truncated tx entry key");
    e.key.assign(payload.data() + pos, klen);
    pos += klen;
    size_t mdlen = p[pos++];
    if (mdlen > kMaxKVMetadataLen || n - pos < mdlen + 4 + 8 + 32) {
      return Status::Corruption("truncated tx entry metadata");
    }
    IMMUDB_ASSIGN_OR_RETURN(e.md, KVMetadata::Decode(payload.substr(pos, mdlen)));
    pos += mdlen;
    e.vlen = GetU32BE(p + pos);
    e.voff = GetU64BE(p + pos + 4);
    e.hval = ReadHash(p + pos + 12);
    pos += 44;
  }
  if (pos != n) return Status::Corruption("trailing bytes after tx entries");
  return tx;
}

void EncodeCommitRecord(const CommitRecord& r, uint8_t out[kCommitRecordSize]) {
  PutU64BE(out, r.tx_id);
  PutU64BE(out + 8, r.durable_upto);
  PutU64BE(out + 16, r.tx_off);
  PutU32BE(out + 24, r.tx_len);
  PutU64BE(out + 28, r.vlog_end);
  std::memcpy(out + 36, r.alh.data(), kHashSize);
  PutU32BE(out + 68, crc32c::Mask(crc32c::Value(out, 68)));
}

Result<CommitRecord> DecodeCommitRecord(const uint8_t in[kCommitRecordSize]) {
  uint32_t want = crc32c::Unmask(GetU32BE(in + 68));
  if (crc32c::Value(in, 68) != want) return Status::Corruption("commit record checksum mismatch");
  CommitRecord r;
  r.tx_id = GetU64BE(in);
  r.durable_upto = GetU64BE(in + 8);
  r.tx_off = GetU64BE(in + 16);
  r.tx_len = GetU32BE(in + 24);
  r.vlog_end = GetU64BE(in + 28);
  r.alh = ReadHash(in + 36);
  if (r.durable_upto >= r.tx_id)
    return Status::Corruption("commit record durable_upto out of range");
  return r;
}

std::string EncodeDurableMark(uint64_t tx_id, const Hash& alh) {
  uint8_t buf[kDurableMarkSize];
  PutU64BE(buf, tx_id);
  std::copy(alh.begin(), alh.end(), buf + 8);
  PutU32BE(buf + 40, crc32c::Mask(crc32c::Value(reinterpret_cast<const char*>(buf), 40)));
  return std::string(reinterpret_cast<const char*>(buf), sizeof(buf));
}

Result<std::pair<uint64_t, Hash>> DecodeDurableMark(std::string_view in) {
  if (in.size() != kDurableMarkSize) return Status::Corruption("durable mark has the wrong size");
  const auto* p = reinterpret_cast<const uint8_t*>(in.data());
  if (crc32c::Unmask(GetU32BE(p + 40)) != crc32c::Value(in.data(), 40)) {
    return Status::Corruption("durable mark checksum mismatch");
  }
  Hash alh;
  std::copy(p + 8, p + 40, alh.begin());
  return std::make_pair(GetU64BE(p), alh);
}

std::string EncodeTruncationMark(const TruncationMark& m) {
  uint8_t buf[kTruncationMarkSize];
  PutU64BE(buf, m.truncated_upto);
  std::copy(m.alh.begin(), m.alh.end(), buf + 8);
  PutU64BE(buf + 40, m.values_end);
  PutU64BE(buf + 48, m.punched_upto);
  PutU32BE(buf + 56, crc32c::Mask(crc32c::Value(reinterpret_cast<const char*>(buf), 56)));
  return std::string(reinterpret_cast<const char*>(buf), sizeof(buf));
}

Result<TruncationMark> DecodeTruncationMark(std::string_view in) {
  if (in.size() != kTruncationMarkSize) {
    return Status::Corruption("truncation mark has the wrong size (" + std::to_string(in.size()) +
                              " bytes)");
  }
  const auto* p = reinterpret_cast<const uint8_t*>(in.data());
  if (crc32c::Unmask(GetU32BE(p + 56)) != crc32c::Value(in.data(), 56)) {
    return Status::Corruption("truncation mark checksum mismatch");
  }
  TruncationMark m;
  m.truncated_upto = GetU64BE(p);
  std::copy(p + 8, p + 40, m.alh.begin());
  m.values_end = GetU64BE(p + 40);
  m.punched_upto = GetU64BE(p + 48);
  if (m.truncated_upto == 0 || m.punched_upto > m.truncated_upto) {
    return Status::Corruption("truncation mark holds an impossible range");
  }
  return m;
}

}  // namespace immudb::store
