// immuclient's output formats, as immudb's immuclient prints them
// (cmd/immuclient/immuc/print.go; wire-api.md §11.1). Every function returns
// the text including its final newline.
#pragma once

#include <string>
#include <vector>

#include "client/types.h"
#include "immudb/tx.h"
#include "schema.pb.h"

namespace immuclient {

// tx, rev (when non-zero), key, metadata (when any), value, and "verified:
// true" for verified reads; with value_only just the value.
std::string FormatKV(const immudb::client::Entry& e, bool verified, bool value_only);
// FormatKV of each entry, separated by blank lines; "no entries" when empty.
std::string FormatEntries(const std::vector<immudb::client::Entry>& entries, bool value_only);
// A sorted-set write: tx, set, referenced key, score (%f), hash (Eh hex).
std::string FormatSetItem(const std::string& set, const std::string& key, double score,
                          const immudb::TxHeader& header, bool verified);
// tx, time (local, as Go prints a time.Time), entries, hash (Alh hex).
std::string FormatTx(const immudb::Tx& tx, bool verified);
// "database '<db>' is empty", or database, txID and hash.
std::string FormatState(const immudb::client::State& state);
std::string FormatHealth(const immudb::schema::DatabaseHealthResponse& health);
// A time as Go's time.Time prints it: "2006-01-02 15:04:05.999 -0700 MST"
// (fraction only when non-zero, trailing zeros dropped).
std::string FormatTime(int64_t unix_seconds, int nanos);

}  // namespace immuclient
