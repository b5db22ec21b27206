#include "tamper_files.h"

#include <filesystem>

#include "testutil/test_util.h"

namespace immudb::client::testing {

bool FindStoredValue(const std::string& data_dir, std::string_view value, StoredBytes* at,
                     std::string* error) {
  int found = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(data_dir)) {
    const auto ext = e.path().extension();
    if (!e.is_regular_file() || (ext != ".tx" && ext != ".val")) continue;
    const std::string data = testutil::ReadAll(e.path().string());
    for (size_t i = data.find(value); i != std::string::npos; i = data.find(value, i + 1)) {
      at->file = e.path().string();
      at->offset = i;
      ++found;
    }
  }
  if (found != 1) {
    *error = "'" + std::string(value) + "' is stored " + std::to_string(found) + " times under " +
             data_dir + ", not once";
  }
  return found == 1;
}

bool FlipByte(const std::string& file, size_t offset, uint8_t mask) {
  std::string data = testutil::ReadAll(file);
  if (offset >= data.size()) return false;
  data[offset] = static_cast<char>(data[offset] ^ mask);
  testutil::WriteAll(file, data);
  return true;
}

}  // namespace immudb::client::testing
