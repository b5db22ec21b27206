// JSON string escaping, shared by the server's JSON log lines and the
// auditor's JSON pages and notifications.
#pragma once

#include <string>
#include <string_view>

namespace immudb {

// `text` as the inside of a JSON string (no surrounding quotes): quotes,
// backslashes and control bytes escaped; bytes that are not valid UTF-8 are
// replaced by U+FFFD, so the result is always valid JSON text.
std::string JsonEscape(std::string_view text);

}  // namespace immudb
