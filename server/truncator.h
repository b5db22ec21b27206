// The periodic truncator: every open database whose settings have a
// retention period (truncationSettings.retentionPeriod > 0) gets a thread
// that, once per truncation frequency, discards the values older than the
// retention period with the same engine call as the TruncateDatabase RPC
// (Database::Truncate, docs/format/truncation.md). The first pass comes one
// period after the truncator starts, as in immudb.
//
// A pass that finds nothing old enough is logged and changes nothing; a
// failed pass is logged and the next period tries again. A truncator stops
// when its database closes (unload, shutdown) or its retention period is set
// to 0, and starts again with the new values when its settings change; a
// stop wakes the thread at once (it waits only for a pass in progress).
//
// TruncationManager is the DatabaseManager's listener (DbListener), so no
// RPC handler needs to know about truncators.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "immudb/database.h"
#include "server/db_manager.h"

namespace immudb::server {

class Truncator {
 public:
  // What a truncator has done so far.
  struct Stats {
    uint64_t passes = 0;          // Passes run (each a Database::Truncate call).
    uint64_t failures = 0;        // Passes that failed (logged, retried next period).
    uint64_t truncated_upto = 0;  // The database's truncation point after the last pass.
  };

  // Starts the thread. REQUIRES: retention > 0, frequency > 0, and `db` open
  // until Stop returns.
  Truncator(std::string name, Database* db, std::chrono::milliseconds retention,
            std::chrono::milliseconds frequency);
  ~Truncator();  // Stop().
  Truncator(const Truncator&) = delete;
  Truncator& operator=(const Truncator&) = delete;

  // Wakes the thread and joins it (after the pass in progress, if any).
  // Idempotent.
  void Stop();

  Database* db() const { return db_; }
  std::chrono::milliseconds retention() const { return retention_; }
  std::chrono::milliseconds frequency() const { return frequency_; }
  Stats stats() const;

 private:
  void Run();
  void Pass();

  const std::string name_;
  Database* const db_;
  const std::chrono::milliseconds retention_;
  const std::chrono::milliseconds frequency_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // GUARDED_BY(mu_)
  Stats stats_;        // GUARDED_BY(mu_)
  std::thread thread_;
};

class TruncationManager : public DbListener {
 public:
  // `frequency_override` > 0 replaces every database's truncation frequency
  // (ServerConfig::truncation_frequency_ms_override: tests only).
  explicit TruncationManager(
      std::chrono::milliseconds frequency_override = std::chrono::milliseconds(0));
  ~TruncationManager() override;  // StopAll().

  void DatabaseOpen(DbHandle* h, const DbSettings& settings) override;
  void DatabaseClosing(const std::string& name) override;
  // Stops every truncator.
  void StopAll();

  // The databases with a running truncator, by name.
  std::vector<std::string> Running() const;
  // The stats of `name`'s running truncator; nullopt when it has none.
  std::optional<Truncator::Stats> StatsOf(const std::string& name) const;

 private:
  const std::chrono::milliseconds frequency_override_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Truncator>> running_;  // GUARDED_BY(mu_)
};

}  // namespace immudb::server
