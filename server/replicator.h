// Replicators: every loaded replica database whose settings name a primary
// (replicationSettings.primaryHost, ...) follows that primary by itself: it
// logs in there, asks exportTx for the transaction after its own last one and
// commits it with replicateTx's path (Database::ReplicateTx), so it holds the
// primary's Alh chain. A transaction that does not chain stops that
// replicator (logged, nothing written); connection errors retry with backoff.
//
// A ReplicationManager thread reconciles the running replicators with the
// databases every 200 ms (new, loaded, unloaded or reconfigured databases),
// so no RPC handler needs to know about them.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "server/db_manager.h"

namespace immudb::server {

class Replicator {
 public:
  Replicator(std::string name, DbHandle* db, DbSettings settings);
  ~Replicator();  // Stops and joins.
  Replicator(const Replicator&) = delete;
  Replicator& operator=(const Replicator&) = delete;

  DbHandle* handle() const { return db_; }
  const DbSettings& settings() const { return settings_; }

 private:
  void Run();
  // Sleeps up to `ms`; false when stopping.
  bool Sleep(int ms);

  const std::string name_;
  DbHandle* const db_;
  const DbSettings settings_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // Guarded by mu_.
  std::thread thread_;
};

class ReplicationManager {
 public:
  explicit ReplicationManager(DatabaseManager* dbs);
  ~ReplicationManager();  // Stops every replicator.

 private:
  void Run();
  void Reconcile();

  DatabaseManager* const dbs_;
  std::map<std::string, std::unique_ptr<Replicator>> running_;  // Only the thread uses it.
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // Guarded by mu_.
  std::thread thread_;
};

}  // namespace immudb::server
