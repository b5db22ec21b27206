// Record layouts of the tx log and the commit log. The byte layouts are
// documented in docs/format/txlog.md and docs/format/commitlog.md; keep the
// two in step.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "immudb/hash.h"
#include "immudb/result.h"
#include "immudb/tx.h"

namespace immudb::store {

// ---- format marker (store.md) ----
inline constexpr char kFormatFile[] = "IMMUDB_STORE";
// Format 1: values in their own log (val/). Format 2: each transaction's
// values lie in the tx log just before its tx record. Format 3 (what new
// stores use): as format 2, with the values preceded by their total length,
// so the tx log can be read forward without the commit log, which is then
// derived data synced lazily (store.md). Format 3's marker has a second
// line, so no single flipped byte turns one known marker into another.
inline constexpr std::string_view kFormat1Line = "immudb-cpp store format 1\n";
inline constexpr std::string_view kFormat2Line = "immudb-cpp store format 2\n";
inline constexpr std::string_view kFormat3Line =
    "immudb-cpp store format 3\nframed values, lazy commit log\n";

// ---- AHT sync policy (store.md) ----
// The AHT is derived from the commit log and synced lazily: a batch syncs it
// only once this many of its bytes are unsynced.
inline constexpr uint64_t kAhtLazyBytes = 1 << 20;
// Bytes at the end of the AHT that a crash may leave torn: the lazy bytes,
// one batch of records more (at most 2084 bytes each), and one write buffer.
inline constexpr uint64_t AhtTornWindow(uint64_t max_group_commit_txs, uint64_t write_buffer) {
  return kAhtLazyBytes + (max_group_commit_txs + 1) * 2084 + write_buffer;
}

// ---- commit log sync policy (format 3, store.md) ----
// A batch also fsyncs the commit log once this many txs, or this many tx log
// bytes, were written since the last batch that did; recovery re-derives the
// commit records of the txs after that point from the tx log.
inline constexpr uint64_t kClogLazyTxs = 4096;
inline constexpr uint64_t kClogLazyTxLogBytes = 8 << 20;
// Format 3: zeros kept written ahead of the tx log's data (appendable.md).
inline constexpr uint64_t kTxLogPrezeroAhead = 4 << 20;

// ---- durable mark (store.md) ----
// DURABLE := tx_id u64 | alh[32] | masked_crc32c(previous 40 bytes) u32,
// written on a clean close: every tx <= tx_id is durable, tx tx_id has that
// Alh. A hint for recovery; a damaged or missing file is ignored.
inline constexpr char kDurableFile[] = "DURABLE";
inline constexpr size_t kDurableMarkSize = 44;
std::string EncodeDurableMark(uint64_t tx_id, const Hash& alh);
// Corruption when the size or checksum is wrong.
Result<std::pair<uint64_t, Hash>> DecodeDurableMark(std::string_view in);

// ---- truncation mark (docs/format/truncation.md) ----
// TRUNCATED := truncated_upto u64 | alh[32] | values_end u64 | punched_upto u64 |
//              masked_crc32c(previous 56 bytes) u32
// The values of every tx <= truncated_upto may be discarded; tx truncated_upto
// has that Alh and its values end at value log offset values_end; the bytes
// of the values of every tx <= punched_upto were discarded. Written
// atomically before any value byte is discarded; never moves back.
inline constexpr char kTruncatedFile[] = "TRUNCATED";
inline constexpr size_t kTruncationMarkSize = 60;
struct TruncationMark {
  uint64_t truncated_upto = 0;
  Hash alh{};
  uint64_t values_end = 0;
  uint64_t punched_upto = 0;
};
std::string EncodeTruncationMark(const TruncationMark& m);
// Corruption when the size, the checksum or punched_upto > truncated_upto is
// wrong.
Result<TruncationMark> DecodeTruncationMark(std::string_view in);

// ---- tx log ----
// Format 3: each tx is  values_len u64 | values | record  (values_len is the
// total length of the tx's values, the record as below).
inline constexpr size_t kTxValuesFrameSize = 8;
// record  := payload_len u32 | masked_crc32c(payload) u32 | payload
// payload := header entry*
inline constexpr size_t kTxRecordPrefixSize = 8;
// header := id u64 | ts u64 | version u16 | nentries u32 | bl_tx_id u64 |
//           bl_root[32] | prev_alh[32] | eh[32]
inline constexpr size_t kTxHeaderSize = 8 + 8 + 2 + 4 + 8 + 32 + 32 + 32;
// entry := key_len u16 | key | md_len u8 | md | vlen u32 | voff u64 | hval[32]
inline constexpr size_t kTxEntryFixedSize = 2 + 1 + 4 + 8 + 32;

// Appends the serialized header fields (kTxHeaderSize bytes).
void EncodeTxHeader(const TxHeader& h, std::string* dst);
// Appends one serialized entry.
void EncodeTxEntry(const TxEntry& e, std::string* dst);
// Builds a full record (prefix + payload) from a payload.
std::string FrameTxRecord(std::string_view payload);

// Parses the header fields from the first kTxHeaderSize bytes of `payload`.
Result<TxHeader> DecodeTxHeader(std::string_view payload);
// Parses a whole payload (header + entries). Corruption on any inconsistency
// (counts, lengths, trailing bytes, bad metadata).
Result<Tx> DecodeTxPayload(std::string_view payload);

// ---- commit log ----
// record := tx_id u64 | durable_upto u64 | tx_off u64 | tx_len u32 |
//           vlog_end u64 | alh[32] | masked_crc32c(previous 68 bytes) u32
inline constexpr size_t kCommitRecordSize = 72;

struct CommitRecord {
  uint64_t tx_id = 0;
  // Every tx <= durable_upto was durable in all four logs before this record
  // was written; recovery checks only the txs after it.
  uint64_t durable_upto = 0;
  uint64_t tx_off = 0;    // Offset of the tx record in the tx log.
  uint32_t tx_len = 0;    // Length of the whole tx record (prefix included).
  uint64_t vlog_end = 0;  // Value log size after this tx's values.
  Hash alh{};
};

void EncodeCommitRecord(const CommitRecord& r, uint8_t out[kCommitRecordSize]);
// Corruption when the checksum does not match.
Result<CommitRecord> DecodeCommitRecord(const uint8_t in[kCommitRecordSize]);

}  // namespace immudb::store
