// Password hashing with bcrypt ("$2b$", cost 10) through libxcrypt.
// Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "immudb/result.h"

namespace immudb::server {

// Returns a bcrypt hash of `password`. Internal if hashing fails.
Result<std::string> HashPassword(std::string_view password);
// True if `password` matches bcrypt `hash` (constant-time comparison).
bool CheckPassword(std::string_view password, const std::string& hash);
// Decodes an --admin-password value: "enc:<base64>" or plain text.
// InvalidArgument on bad base64.
Result<std::string> DecodeAdminPassword(const std::string& value);

}  // namespace immudb::server
