// Durations printed as immudb prints them (Go's time.Duration), shared by the
// server's truncation logs and immuadmin's output.
#pragma once

#include <cstdint>
#include <string>

namespace immudb {

// `ms` milliseconds as Go's time.Duration.String() prints it, to millisecond
// resolution: "0s", "500ms", "1.5s", "1m30s", "24h0m0s", "-2s".
std::string DurationText(int64_t ms);

}  // namespace immudb
