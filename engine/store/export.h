// Exported transactions: the byte form immudb v1 uses to move a committed
// transaction between stores (the exportTx / replicateTx RPCs and hot
// backups), so replicas and tools of either implementation interoperate.
// Layout in docs/format/exported-tx.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "immudb/result.h"
#include "immudb/store.h"
#include "immudb/tx.h"

namespace immudb::store {

struct ExportedTx {
  TxHeader header;
  std::vector<EntrySpec> entries;  // Stored keys and values (prefixed), in tx order.
};

// Tx `id` of `store` in exported form; every value is read and checked
// against its hash (Corruption if it does not match).
Result<std::string> ExportTx(const Store& store, uint64_t id);

// Encodes a transaction; InvalidArgument if it does not fit the format
// (version 0 with more than 65535 entries, oversize keys or metadata).
Result<std::string> EncodeExportedTx(const TxHeader& header, const std::vector<EntrySpec>& entries);

// Parses an exported transaction. InvalidArgument for anything malformed
// (short or trailing bytes, lengths past the end, bad metadata, entry count
// not matching the header); Unimplemented for a transaction exported
// without its values (truncated). Checks only the form: whether the entries
// hash to the header's Eh and whether it chains is up to the store.
Result<ExportedTx> DecodeExportedTx(std::string_view bytes);

}  // namespace immudb::store
