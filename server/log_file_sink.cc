#include "server/log_file_sink.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>

namespace immudb::server {
namespace fs = std::filesystem;

namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "2006-01-02T15:04:05Z" for `ms` since the epoch.
std::string Rfc3339Utc(int64_t ms) {
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

SegmentedFileSink::SegmentedFileSink(std::string path, int64_t max_size, int64_t age_ms,
                                     Clock clock)
    : path_(std::move(path)),
      max_size_(max_size),
      age_ms_(age_ms),
      clock_(clock ? std::move(clock) : Clock(NowMs)) {}

SegmentedFileSink::~SegmentedFileSink() {
  if (file_ != nullptr) std::fclose(file_);
}

Result<std::shared_ptr<SegmentedFileSink>> SegmentedFileSink::Open(const std::string& path,
                                                                   int64_t max_size, int64_t age_ms,
                                                                   Clock clock) {
  if (path.empty() || max_size < 0 || age_ms < 0) {
    return Status::InvalidArgument("log segments need a file, a size >= 0 and an age >= 0");
  }
  std::shared_ptr<SegmentedFileSink> sink(
      new SegmentedFileSink(path, max_size, age_ms, std::move(clock)));
  const fs::path parent = fs::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    fs::create_directories(parent, ec);
    if (ec) return Status::IOError("cannot create log directory " + parent.string());
  }
  IMMUDB_RETURN_IF_ERROR(sink->OpenSegment(sink->Window()));
  return sink;
}

int64_t SegmentedFileSink::Window() const { return age_ms_ > 0 ? clock_() / age_ms_ : 0; }

Status SegmentedFileSink::OpenSegment(int64_t window) {
  if (file_ != nullptr) {
    std::fclose(file_);
    file_ = nullptr;
  }
  std::string base = path_;
  if (age_ms_ > 0) {
    const fs::path p(path_);
    const std::string stem = p.stem().string() + "_" + Rfc3339Utc(window * age_ms_);
    base = (p.parent_path() / (stem + p.extension().string())).string();
  }
  std::string name = base;
  std::error_code ec;
  for (int n = 1; fs::exists(name, ec) || ec; ++n) {
    if (ec) return Status::IOError("cannot inspect log segment " + name + ": " + ec.message());
    char suffix[16];
    std::snprintf(suffix, sizeof(suffix), ".%04d", n);
    name = base + suffix;
  }
  file_ = std::fopen(name.c_str(), "a");
  if (file_ == nullptr) return Status::IOError("cannot open log segment " + name);
  current_path_ = name;
  size_ = 0;
  window_ = window;
  return Status::OK();
}

void SegmentedFileSink::sink_it_(const spdlog::details::log_msg& msg) {
  spdlog::memory_buf_t formatted;
  formatter_->format(msg, formatted);
  const int64_t n = static_cast<int64_t>(formatted.size());
  const int64_t window = Window();
  const bool too_big = max_size_ > 0 && size_ > 0 && size_ + n > max_size_;
  const bool too_old = age_ms_ > 0 && window != window_;
  if (file_ == nullptr || too_big || too_old) {
    // A segment that cannot be opened loses the message, as any write error.
    if (!OpenSegment(window).ok()) return;
  }
  if (std::fwrite(formatted.data(), 1, formatted.size(), file_) == formatted.size()) size_ += n;
}

void SegmentedFileSink::flush_() {
  if (file_ != nullptr) std::fflush(file_);
}

}  // namespace immudb::server
