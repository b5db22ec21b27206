#include "server/truncator.h"

#include <spdlog/spdlog.h>

#include <utility>

#include "immudb/duration_text.h"

namespace immudb::server {
namespace {

// How immudb's logs print a duration: "24h0m0s", "1h30m0s".
std::string DurationText(std::chrono::milliseconds d) { return immudb::DurationText(d.count()); }

// Database::Truncate's answer when no transaction is old enough.
constexpr char kNotReached[] = "retention period has not been reached";

}  // namespace

// ---- Truncator ----

Truncator::Truncator(std::string name, Database* db, std::chrono::milliseconds retention,
                     std::chrono::milliseconds frequency)
    : name_(std::move(name)), db_(db), retention_(retention), frequency_(frequency) {
  spdlog::info("truncator of database '{}' started: retention period {}, truncation frequency {}",
               name_, DurationText(retention_), DurationText(frequency_));
  thread_ = std::thread([this] { Run(); });
}

Truncator::~Truncator() { Stop(); }

void Truncator::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stop_ && !thread_.joinable()) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
    spdlog::info("truncator of database '{}' stopped", name_);
  }
}

Truncator::Stats Truncator::stats() const {
  std::lock_guard<std::mutex> l(mu_);
  return stats_;
}

void Truncator::Run() {
  auto next = std::chrono::steady_clock::now() + frequency_;
  std::unique_lock<std::mutex> l(mu_);
  while (true) {
    if (cv_.wait_until(l, next, [this] { return stop_; })) return;
    l.unlock();
    Pass();
    // The next pass one period after this one started; a pass that took
    // longer than a period is followed at once by the next.
    next += frequency_;
    const auto now = std::chrono::steady_clock::now();
    if (next < now) next = now;
    l.lock();
  }
}

void Truncator::Pass() {
  const uint64_t before = db_->TruncatedUpTo();
  const auto retention_s = static_cast<uint64_t>(retention_.count() / 1000);
  spdlog::info("truncating database '{}': values older than {} (retention period)", name_,
               DurationText(retention_));
  auto r = db_->Truncate(retention_s);
  bool failed = false;
  if (r.ok()) {
    if (*r > before) {
      spdlog::info("database '{}' truncated: the values of transactions up to {} are discarded",
                   name_, *r);
    } else {
      spdlog::info("database '{}': no transaction newly older than the retention period {}{}",
                   name_, DurationText(retention_),
                   before > 0 ? " (values of transactions up to " + std::to_string(before) +
                                    " were already discarded)"
                              : "");
    }
  } else if (r.status().code() == StatusCode::kFailedPrecondition &&
             r.status().message() == kNotReached) {
    spdlog::info("database '{}': retention period {} not reached, nothing truncated", name_,
                 DurationText(retention_));
  } else {
    failed = true;
    spdlog::error("database '{}': truncation failed: {} (retrying in {})", name_,
                  r.status().message(), DurationText(frequency_));
  }
  std::lock_guard<std::mutex> l(mu_);
  stats_.passes++;
  if (failed) stats_.failures++;
  stats_.truncated_upto = r.ok() ? *r : before;
}

// ---- TruncationManager ----

TruncationManager::TruncationManager(std::chrono::milliseconds frequency_override)
    : frequency_override_(frequency_override) {}

TruncationManager::~TruncationManager() { StopAll(); }

void TruncationManager::DatabaseOpen(DbHandle* h, const DbSettings& settings) {
  const std::chrono::milliseconds retention(settings.retention_period_ms);
  std::chrono::milliseconds frequency(settings.truncation_frequency_ms > 0
                                          ? settings.truncation_frequency_ms
                                          : kDefaultTruncationFrequencyMs);
  if (frequency_override_.count() > 0) frequency = frequency_override_;
  std::unique_ptr<Truncator> old;
  std::lock_guard<std::mutex> l(mu_);
  auto it = running_.find(h->name);
  if (it != running_.end()) {
    const Truncator& t = *it->second;
    if (retention.count() > 0 && t.db() == h->db.get() && t.retention() == retention &&
        t.frequency() == frequency) {
      return;  // Unchanged: keep its schedule.
    }
    old = std::move(it->second);
    running_.erase(it);
    old->Stop();
  }
  if (retention.count() <= 0 || !h->loaded()) return;
  running_[h->name] = std::make_unique<Truncator>(h->name, h->db.get(), retention, frequency);
}

void TruncationManager::DatabaseClosing(const std::string& name) {
  std::unique_ptr<Truncator> t;
  std::lock_guard<std::mutex> l(mu_);
  auto it = running_.find(name);
  if (it == running_.end()) return;
  t = std::move(it->second);
  running_.erase(it);
  t->Stop();
}

void TruncationManager::StopAll() {
  std::lock_guard<std::mutex> l(mu_);
  for (auto& [name, t] : running_) t->Stop();
  running_.clear();
}

std::vector<std::string> TruncationManager::Running() const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<std::string> out;
  for (const auto& [name, t] : running_) out.push_back(name);
  return out;
}

std::optional<Truncator::Stats> TruncationManager::StatsOf(const std::string& name) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = running_.find(name);
  if (it == running_.end()) return std::nullopt;
  return it->second->stats();
}

}  // namespace immudb::server
