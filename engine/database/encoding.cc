// Stored key and value forms of the database layer (proofs.md §1.1).
#include <bit>
#include <cstring>

#include "database/database_impl.h"
#include "util/coding.h"

namespace immudb {

namespace {
constexpr char kSetKeyPrefix = 0x00;
constexpr char kSortedSetKeyPrefix = 0x01;
constexpr char kPlainValuePrefix = 0x00;
constexpr char kReferenceValuePrefix = 0x01;
}  // namespace

void EncodeKeyTo(std::string_view user_key, std::string* out) {
  out->reserve(1 + user_key.size());
  out->assign(1, kSetKeyPrefix);
  out->append(user_key);
}

void EncodeValueTo(std::string_view user_value, std::string* out) {
  out->reserve(1 + user_value.size());
  out->assign(1, kPlainValuePrefix);
  out->append(user_value);
}

std::string EncodeKey(std::string_view user_key) {
  std::string k;
  EncodeKeyTo(user_key, &k);
  return k;
}

std::string EncodeValue(std::string_view user_value) {
  std::string v;
  EncodeValueTo(user_value, &v);
  return v;
}

std::string EncodeReferenceValue(std::string_view referenced_user_key, uint64_t at_tx) {
  std::string v;
  v.push_back(kReferenceValuePrefix);
  AppendU64BE(&v, at_tx);
  v.append(EncodeKey(referenced_user_key));
  return v;
}

std::string EncodeZAddKey(std::string_view set, double score, std::string_view user_key,
                          uint64_t at_tx) {
  std::string k = database::ZSetPrefix(set);
  // Raw IEEE-754 bits, big-endian: no order-preserving transform (proofs.md §1.1).
  AppendU64BE(&k, std::bit_cast<uint64_t>(score));
  AppendU64BE(&k, user_key.size() + 1);
  k.append(EncodeKey(user_key));
  AppendU64BE(&k, at_tx);
  return k;
}

namespace database {

std::string ZSetPrefix(std::string_view set) {
  std::string k;
  k.push_back(kSortedSetKeyPrefix);
  AppendU64BE(&k, set.size());
  k.append(set);
  return k;
}

Result<ZKey> DecodeZAddKey(std::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const Status bad = Status::Corruption("malformed sorted-set key");
  if (s.size() < 9 || s[0] != kSortedSetKeyPrefix) return bad;
  const uint64_t set_len = GetU64BE(p + 1);
  if (set_len > s.size() - 9 || s.size() - 9 - set_len < 8 + 8 + 1 + 8) return bad;
  ZKey z;
  z.set.assign(s.substr(9, set_len));
  size_t off = 9 + set_len;
  z.score = std::bit_cast<double>(GetU64BE(p + off));
  const uint64_t key_len = GetU64BE(p + off + 8);
  off += 16;
  if (key_len < 1 || key_len != s.size() - off - 8 || s[off] != kSetKeyPrefix) return bad;
  z.key.assign(s.substr(off + 1, key_len - 1));
  z.at_tx = GetU64BE(p + off + key_len);
  return z;
}

}  // namespace database
}  // namespace immudb
