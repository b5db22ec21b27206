// A settings file in TOML (immudb.toml, immuadmin.toml): its top-level keys,
// lower-cased, and their values as text (strings as they are, booleans as
// true/false, numbers in decimal). Shared by the server and the tools.
#pragma once

#include <map>
#include <string>

#include "immudb/result.h"

namespace immudb::server {

// InvalidArgument "config file <path>: <reason>" when it cannot be parsed.
Result<std::map<std::string, std::string>> ReadTomlSettings(const std::string& path);

}  // namespace immudb::server
