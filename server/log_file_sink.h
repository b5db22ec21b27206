// SegmentedFileSink: an spdlog sink that writes the server log in segments,
// named as immudb names them (--log-rotation-size, --log-rotation-age):
//   * without an age limit the segments are <file>, <file>.0001, <file>.0002…;
//   * with one, each age window (Unix time cut into multiples of the age) has
//     its own file <stem>_<window start, UTC, RFC 3339><ext>, followed by
//     .0001, .0002… within the window when it also exceeds the size limit.
// A new segment starts when a message would take the current one past the size
// limit (an empty segment always takes the message) or when the window
// changes. Each segment opened takes the first of those names that does not
// exist yet, so a restart never appends to an earlier segment. Thread-safe
// (spdlog's base_sink locks).
#pragma once

#include <spdlog/sinks/base_sink.h>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "immudb/result.h"

namespace immudb::server {

class SegmentedFileSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  // Milliseconds since the Unix epoch; tests pass their own clock.
  using Clock = std::function<int64_t()>;

  // `max_size` 0 = no size limit; `age_ms` 0 = no age limit. Creates the
  // file's directory; IOError when the first segment cannot be opened.
  static Result<std::shared_ptr<SegmentedFileSink>> Open(const std::string& path, int64_t max_size,
                                                         int64_t age_ms, Clock clock = nullptr);
  ~SegmentedFileSink() override;

  // The segment being written.
  std::string current_path() {
    std::lock_guard<std::mutex> l(mutex_);
    return current_path_;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override;

 private:
  SegmentedFileSink(std::string path, int64_t max_size, int64_t age_ms, Clock clock);
  int64_t Window() const;
  // Closes the current segment and opens the next one for `window`.
  Status OpenSegment(int64_t window);

  const std::string path_;
  const int64_t max_size_;
  const int64_t age_ms_;
  const Clock clock_;
  std::FILE* file_ = nullptr;
  std::string current_path_;
  int64_t size_ = 0;
  int64_t window_ = 0;
};

}  // namespace immudb::server
