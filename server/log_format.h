// The server's log line formats (--logformat): "text" (spdlog's default) and
// "json", one JSON object per line with immudb's keys:
//   {"level":"info","message":"...","module":"immudb","timestamp":"..."}
// The message is escaped as a JSON string, so any text (quotes, backslashes,
// newlines, control bytes) yields one valid line.
#pragma once

#include <spdlog/formatter.h>

#include <memory>
#include <string>
#include <string_view>

namespace immudb::server {

// The formatter of --logformat json.
std::unique_ptr<spdlog::formatter> NewJsonLogFormatter();

}  // namespace immudb::server
