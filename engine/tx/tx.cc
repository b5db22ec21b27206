// Entry digests, KV metadata bytes and the header hashes (proofs.md §1, §3).
// Every byte layout here is hashed, so it must match Go immudb exactly.

#include "immudb/tx.h"

#include <cstring>
#include <string>

#include "htree/htree.h"
#include "util/coding.h"
#include "util/sha256_ni.h"

namespace immudb {
namespace {

// KV metadata attribute codes (proofs.md §1.3).
constexpr uint8_t kAttrDeleted = 0x00;
constexpr uint8_t kAttrExpiresAt = 0x01;
constexpr uint8_t kAttrNonIndexable = 0x02;

// Inner-hash input sizes without tx metadata (proofs.md §3.3).
constexpr size_t kInnerV0Len = 8 + 2 + 2 + 32 + 8 + 32;
constexpr size_t kInnerV1Len = 8 + 2 + 2 + 4 + 32 + 8 + 32;

}  // namespace

size_t KVMetadata::EncodeTo(uint8_t* out) const {
  size_t n = 0;
  if (deleted) out[n++] = kAttrDeleted;
  if (expires_at) {
    out[n++] = kAttrExpiresAt;
    // Signed seconds are written as the u64 of their two's complement.
    PutU64BE(out + n, static_cast<uint64_t>(*expires_at));
    n += 8;
  }
  if (non_indexable) out[n++] = kAttrNonIndexable;
  return n;
}

std::string KVMetadata::Encode() const {
  uint8_t buf[kMaxKVMetadataLen];
  const size_t n = EncodeTo(buf);
  return std::string(reinterpret_cast<const char*>(buf), n);
}

Result<KVMetadata> KVMetadata::Decode(std::string_view bytes) {
  KVMetadata md;
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  size_t pos = 0;
  int last_code = -1;
  while (pos < bytes.size()) {
    const uint8_t code = p[pos++];
    // Strictly ascending codes reject both repeats and bad order, so one
    // encoding exists per metadata value and digests cannot be malleated.
    if (static_cast<int>(code) <= last_code) {
      return Status::Corruption("kv metadata: attribute out of order or repeated");
    }
    last_code = code;
    switch (code) {
      case kAttrDeleted:
        md.deleted = true;
        break;
      case kAttrExpiresAt:
        if (bytes.size() - pos < 8) return Status::Corruption("kv metadata: truncated expiresAt");
        md.expires_at = static_cast<int64_t>(GetU64BE(p + pos));
        pos += 8;
        break;
      case kAttrNonIndexable:
        md.non_indexable = true;
        break;
      default:
        return Status::Corruption("kv metadata: unknown attribute code " + std::to_string(code));
    }
  }
  return md;
}

Result<Hash> EntryDigest(uint16_t version, std::string_view key, std::string_view md_bytes,
                         const Hash& hval) {
  Sha256 h;
  switch (version) {
    case 0:
      // Version 0 has no place for metadata in the digest; silently dropping
      // it would make two different entries hash alike.
      if (!md_bytes.empty()) {
        return Status::InvalidArgument("entry digest v0: kv metadata not supported");
      }
      h.Update(key);
      h.Update(hval);
      return h.Final();
    case 1: {
      if (md_bytes.size() > 0xffff || key.size() > 0xffff) {
        return Status::InvalidArgument("entry digest v1: key or metadata longer than 65535");
      }
      uint8_t len[2];
      PutU16BE(len, static_cast<uint16_t>(md_bytes.size()));
      h.Update(len, 2);
      h.Update(md_bytes);
      PutU16BE(len, static_cast<uint16_t>(key.size()));
      h.Update(len, 2);
      h.Update(key);
      h.Update(hval);
      return h.Final();
    }
    default:
      return Status::InvalidArgument("entry digest: unsupported header version " +
                                     std::to_string(version));
  }
}

Status EntryHashes(uint16_t version, std::string_view key, const KVMetadata& md,
                   std::string_view value, Hash* hval, Hash* digest, Hash* leaf) {
  static const bool kNi = sha_ni::Available();
  uint8_t md_bytes[kMaxKVMetadataLen];
  const size_t md_len = md.EncodeTo(md_bytes);
  // The digest's input before the value hash (proofs.md §1.4).
  const size_t at = version == 0 ? key.size() : 2 + md_len + 2 + key.size();
  if (!kNi || (version != 0 && version != 1) || (version == 0 && md_len > 0) ||
      at > sha_ni::kMaxDigestAt) {
    *hval = Sha256Of(value);
    IMMUDB_ASSIGN_OR_RETURN(
        *digest,
        EntryDigest(version, key, std::string_view(reinterpret_cast<const char*>(md_bytes), md_len),
                    *hval));
    if (leaf != nullptr) *leaf = LeafHash(*digest);
    return Status::OK();
  }
  // The digest's padded blocks without the value hash: the bytes before it,
  // 32 zeros in its place, 0x80, zeros and the length in bits.
  alignas(16) uint8_t msg[128] = {};
  uint8_t* p = msg;
  if (version == 1) {
    PutU16BE(p, static_cast<uint16_t>(md_len));
    if (md_len > 0) std::memcpy(p + 2, md_bytes, md_len);
    PutU16BE(p + 2 + md_len, static_cast<uint16_t>(key.size()));
    p += 4 + md_len;
  }
  if (!key.empty()) std::memcpy(p, key.data(), key.size());
  const size_t len = at + kHashSize;
  const size_t nblocks = len + 9 <= 64 ? 1 : 2;
  msg[len] = 0x80;
  PutU64BE(msg + 64 * nblocks - 8, static_cast<uint64_t>(len) * 8);
  sha_ni::ValueDigestLeaf(reinterpret_cast<const uint8_t*>(value.data()), value.size(), msg, at,
                          nblocks, hval->data(), digest->data(),
                          leaf != nullptr ? leaf->data() : nullptr);
  return Status::OK();
}

Result<Hash> TxHeader::Inner() const {
  uint8_t buf[kInnerV1Len];
  uint8_t* p = buf;
  PutU64BE(p, static_cast<uint64_t>(ts));
  p += 8;
  PutU16BE(p, version);
  p += 2;
  switch (version) {
    case 0:
      if (nentries > 0xffff) {
        return Status::InvalidArgument("tx header v0: more than 65535 entries");
      }
      PutU16BE(p, static_cast<uint16_t>(nentries));
      p += 2;
      break;
    case 1:
      PutU16BE(p, 0);  // TxMetadata length: never emitted (proofs.md §9 rule 3).
      p += 2;
      PutU32BE(p, nentries);
      p += 4;
      break;
    default:
      return Status::InvalidArgument("tx header: unsupported version " + std::to_string(version));
  }
  std::memcpy(p, eh.data(), kHashSize);
  p += kHashSize;
  PutU64BE(p, bl_tx_id);
  p += 8;
  std::memcpy(p, bl_root.data(), kHashSize);
  p += kHashSize;
  const size_t n = static_cast<size_t>(p - buf);
  // The layouts are fixed; a mismatch here would be a programming error.
  if (n != (version == 0 ? kInnerV0Len : kInnerV1Len)) {
    return Status::Internal("tx header: inner hash layout size mismatch");
  }
  return Sha256Of(buf, n);
}

Hash AlhFrom(uint64_t id, const Hash& prev_alh, const Hash& inner) {
  uint8_t buf[8 + 2 * kHashSize];
  PutU64BE(buf, id);
  std::memcpy(buf + 8, prev_alh.data(), kHashSize);
  std::memcpy(buf + 8 + kHashSize, inner.data(), kHashSize);
  return Sha256Of(buf, sizeof(buf));
}

Status TxHeader::InnerAndAlh(Hash* inner, Hash* alh) const {
  static const bool kNi = sha_ni::Available();
  if (!kNi || (version != 0 && version != 1) || (version == 0 && nentries > 0xffff)) {
    IMMUDB_ASSIGN_OR_RETURN(*inner, Inner());
    *alh = AlhFrom(id, prev_alh, *inner);
    return Status::OK();
  }
  // The inner hash's bytes before bl_root, as Inner() lays them out.
  alignas(16) uint8_t prefix[64] = {};
  uint8_t* p = prefix;
  PutU64BE(p, static_cast<uint64_t>(ts));
  PutU16BE(p + 8, version);
  p += 10;
  if (version == 0) {
    PutU16BE(p, static_cast<uint16_t>(nentries));
    p += 2;
  } else {
    PutU16BE(p, 0);
    PutU32BE(p + 2, nentries);
    p += 6;
  }
  std::memcpy(p, eh.data(), kHashSize);
  PutU64BE(p + kHashSize, bl_tx_id);
  p += kHashSize + 8;
  alignas(16) uint8_t id_prev[48] = {};
  PutU64BE(id_prev, id);
  std::memcpy(id_prev + 8, prev_alh.data(), kHashSize);
  sha_ni::InnerAndAlh(prefix, static_cast<size_t>(p - prefix), bl_root.data(), id_prev,
                      inner->data(), alh->data());
  return Status::OK();
}

Result<Hash> TxHeader::Alh() const {
  IMMUDB_ASSIGN_OR_RETURN(Hash inner, Inner());
  return AlhFrom(id, prev_alh, inner);
}

Result<Hash> ComputeEh(uint16_t version, const std::vector<TxEntry>& entries) {
  std::vector<Hash> digests;
  digests.reserve(entries.size());
  for (const TxEntry& e : entries) {
    IMMUDB_ASSIGN_OR_RETURN(Hash d, e.Digest(version));
    digests.push_back(d);
  }
  return HTreeRoot(digests);
}

}  // namespace immudb
