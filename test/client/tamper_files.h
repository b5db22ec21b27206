// Changing a stopped server's data files behind its back, for the tampering
// tests: where a value is stored, and flipping one byte there.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace immudb::client::testing {

struct StoredBytes {
  std::string file;
  size_t offset = 0;
};

// The file and offset of the only occurrence of `value` in the files that
// hold values under `data_dir` (a server's --dir): the tx logs (.tx, store
// format 2) and value logs (.val, format 1; docs/format/store.md). False with
// the reason in *error when `value` is stored nowhere or more than once.
bool FindStoredValue(const std::string& data_dir, std::string_view value, StoredBytes* at,
                     std::string* error);

// XORs the byte at `offset` of `file` with `mask` and writes the file back;
// false when the file is not that long.
bool FlipByte(const std::string& file, size_t offset, uint8_t mask = 0x01);

}  // namespace immudb::client::testing
