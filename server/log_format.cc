#include "server/log_format.h"

#include <spdlog/pattern_formatter.h>

#include "immudb/json_escape.h"

namespace immudb::server {
namespace {

// The %* flag: the message, JSON-escaped.
class EscapedMessage final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    const std::string escaped =
        JsonEscape(std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(escaped.data(), escaped.data() + escaped.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<EscapedMessage>();
  }
};

}  // namespace

std::unique_ptr<spdlog::formatter> NewJsonLogFormatter() {
  auto f = std::make_unique<spdlog::pattern_formatter>();
  f->add_flag<EscapedMessage>('*');
  // The module is the logger's name (%n): "immudb", no escaping needed.
  f->set_pattern(
      R"({"level":"%l","message":"%*","module":"%n","timestamp":"%Y-%m-%dT%H:%M:%S.%f%z"})");
  return f;
}

}  // namespace immudb::server
