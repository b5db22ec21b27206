#include "immudb/duration_text.h"

namespace immudb {

std::string DurationText(int64_t ms) {
  if (ms == 0) return "0s";
  const std::string sign = ms < 0 ? "-" : "";
  const uint64_t v = ms < 0 ? static_cast<uint64_t>(-(ms + 1)) + 1 : static_cast<uint64_t>(ms);
  if (v < 1000) return sign + std::to_string(v) + "ms";
  std::string secs = std::to_string(v / 1000 % 60);
  if (v % 1000 != 0) {
    std::string frac = std::to_string(1000 + v % 1000).substr(1);
    while (frac.back() == '0') frac.pop_back();
    secs += "." + frac;
  }
  const uint64_t minutes = v / 60000 % 60, hours = v / 3600000;
  if (hours > 0) {
    return sign + std::to_string(hours) + "h" + std::to_string(minutes) + "m" + secs + "s";
  }
  if (minutes > 0) return sign + std::to_string(minutes) + "m" + secs + "s";
  return sign + secs + "s";
}

}  // namespace immudb
