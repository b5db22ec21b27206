// Server identity: a 12-byte xid-style id kept in <dir>/immudb.identifier and
// sent, in its 20-character base32hex text form, as the `immudb-uuid` header
// on every response (wire-api.md §1.2).
#pragma once

#include <string>

#include "immudb/result.h"

namespace immudb::server {

// Reads <dir>/immudb.identifier, or moves it from <dir>/defaultdb/ when found
// there, or creates it with a fresh id (written atomically and synced).
// Returns the text form. Corruption if the file exists but is not 12 bytes.
Result<std::string> LoadOrCreateServerId(const std::string& dir);

// The base32hex (0-9a-v), unpadded text of 12 id bytes: 20 characters.
std::string EncodeServerId(const std::string& raw12);

}  // namespace immudb::server
