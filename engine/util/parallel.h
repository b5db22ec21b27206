// ParallelRunner: runs a few closures at once on persistent worker threads
// (the caller runs the first one itself), for the group commit's concurrent
// fsyncs where starting threads per batch would cost more than it saves.
//
// Thread-safety: Run() may be called by one thread at a time.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "immudb/status.h"

namespace immudb {

class ParallelRunner {
 public:
  // Starts `workers` threads.
  explicit ParallelRunner(size_t workers);
  ~ParallelRunner();
  ParallelRunner(const ParallelRunner&) = delete;
  ParallelRunner& operator=(const ParallelRunner&) = delete;

  // Runs every task, tasks[0] on the calling thread and the rest on workers
  // (REQUIRES: tasks.size() <= workers + 1), waits for all, and returns the
  // first error in task order. Wakes only the workers it gives a task: a
  // single task runs on the caller alone (the usual synced batch of store
  // format 3, which fsyncs the tx log only).
  Status Run(const std::vector<std::function<Status()>>& tasks);

 private:
  void WorkerLoop(size_t index);

  std::mutex mu_;
  // One per worker, so that giving a task wakes that worker only.
  std::vector<std::condition_variable> work_cv_;
  std::condition_variable done_cv_;
  std::vector<std::thread> threads_;
  std::vector<const std::function<Status()>*> pending_;  // Per worker; null when idle.
  std::vector<Status> results_;
  size_t outstanding_ = 0;
  bool stop_ = false;
};

}  // namespace immudb
