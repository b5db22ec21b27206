#include "server/toml_settings.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cstdint>

namespace immudb::server {

Result<std::map<std::string, std::string>> ReadTomlSettings(const std::string& path) {
  std::map<std::string, std::string> out;
  toml::table tbl;
  try {
    tbl = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return Status::InvalidArgument("config file " + path + ": " + std::string(e.description()));
  }
  for (auto&& [k, v] : tbl) {
    std::string key(k.str());
    std::transform(key.begin(), key.end(), key.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    if (v.is_string()) {
      out[key] = *v.value<std::string>();
    } else if (v.is_boolean()) {
      out[key] = *v.value<bool>() ? "true" : "false";
    } else if (v.is_integer()) {
      out[key] = std::to_string(*v.value<int64_t>());
    } else if (v.is_floating_point()) {
      out[key] = std::to_string(*v.value<double>());
    }
  }
  return out;
}

}  // namespace immudb::server
