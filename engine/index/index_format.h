// RocksDB key and value layout of the key index. See docs/format/index.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "immudb/result.h"
#include "index/index.h"

namespace immudb::index {

// Record kinds: the first byte of every RocksDB key.
inline constexpr char kMetaTag = 'M';
inline constexpr char kLatestTag = 'L';
inline constexpr char kHistoryTag = 'H';

// Meta keys. kFormatKey holds kFormatValue; kIndexedUpToKey holds u64BE(tx).
inline constexpr std::string_view kFormatKey = "Mformat";
// Format 3: 'H' and 'L' records in column families of their own, the meta
// keys in the default one; 'L' records may carry their value inline (format
// 2). An index of another format is rebuilt from the log on open
// (docs/format/index.md).
inline constexpr std::string_view kFormatValue = "immudb-index 3";
inline constexpr std::string_view kIndexedUpToKey = "Mindexed_upto";

// The RocksDB column families of the 'H' and 'L' records; 'M' keys are in
// the default one ("default").
inline constexpr std::string_view kHistoryFamily = "history";
inline constexpr std::string_view kLatestFamily = "latest";

// Fixed part of a record value: tx(8) index(4) revision(8) mdlen(1) hval(32)
// vlen(4) voff(8), plus mdlen bytes of KV metadata. An inline record ('L'
// only) is followed by the vlen bytes of the value itself: a record is
// inline exactly when vlen > 0 and its size is the fixed part + mdlen + vlen.
inline constexpr size_t kRecordFixedSize = 8 + 4 + 8 + 1 + 32 + 4 + 8;

// 'L' || stored key.
std::string LatestKey(std::string_view key);
// 'H' || u32BE(len(key)) || key: the common prefix of a key's history records.
std::string HistoryPrefix(std::string_view key);
// HistoryPrefix(key) || u64BE(revision).
std::string HistoryKey(std::string_view key, uint64_t revision);
// LatestKey and HistoryKey into *out, reusing its buffer.
void LatestKeyTo(std::string_view key, std::string* out);
void HistoryKeyTo(std::string_view key, uint64_t revision, std::string* out);

std::string EncodeRecord(const IndexedEntry& e);
// EncodeRecord into *out (replacing its contents), reusing its buffer.
void EncodeRecordTo(const IndexedEntry& e, std::string* out);
// The same from the record's fields; entry.key is not part of the record.
// `value`, when not null, is the entry's value (entry.vlen bytes, vlen > 0),
// written inline after the fields.
void EncodeRecordFieldsTo(uint64_t tx, uint32_t index, uint64_t revision, const TxEntry& entry,
                          const char* value, std::string* out);
// The size of a record without its inline value (the fixed part and the
// metadata); `bytes` holds at least the fixed part.
inline size_t PlainRecordSize(std::string_view bytes) {
  return kRecordFixedSize + static_cast<uint8_t>(bytes[20]);
}
// The revision field of an encoded record. Corruption on a malformed record.
Result<uint64_t> DecodeRevision(std::string_view bytes);
// Parses EncodeRecord's output; `key` becomes e->entry.key, an inline value
// e->value (with e->value_inline; unchecked: readers check it against
// e->entry.hval). Corruption on a malformed record.
Status DecodeRecord(std::string_view key, std::string_view bytes, IndexedEntry* e);

}  // namespace immudb::index
