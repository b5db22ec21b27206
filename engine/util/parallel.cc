#include "util/parallel.h"

namespace immudb {

ParallelRunner::ParallelRunner(size_t workers)
    : work_cv_(workers), pending_(workers, nullptr), results_(workers) {
  threads_.reserve(workers);
  for (size_t i = 0; i < workers; i++) threads_.emplace_back([this, i] { WorkerLoop(i); });
}

ParallelRunner::~ParallelRunner() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  for (auto& cv : work_cv_) cv.notify_all();
  for (auto& t : threads_) t.join();
}

void ParallelRunner::WorkerLoop(size_t index) {
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    work_cv_[index].wait(l, [&] { return stop_ || pending_[index] != nullptr; });
    if (pending_[index] == nullptr) return;  // stop_ and nothing to do.
    const std::function<Status()>* task = pending_[index];
    l.unlock();
    Status s = (*task)();
    l.lock();
    results_[index] = std::move(s);
    pending_[index] = nullptr;
    if (--outstanding_ == 0) done_cv_.notify_one();
  }
}

Status ParallelRunner::Run(const std::vector<std::function<Status()>>& tasks) {
  if (tasks.empty()) return Status::OK();
  if (tasks.size() > threads_.size() + 1) return Status::Internal("too many parallel tasks");
  if (tasks.size() == 1) return tasks[0]();
  {
    std::lock_guard<std::mutex> l(mu_);
    outstanding_ = tasks.size() - 1;
    for (size_t i = 1; i < tasks.size(); i++) pending_[i - 1] = &tasks[i];
  }
  for (size_t i = 1; i < tasks.size(); i++) work_cv_[i - 1].notify_one();
  Status first = tasks[0]();
  std::unique_lock<std::mutex> l(mu_);
  done_cv_.wait(l, [&] { return outstanding_ == 0; });
  for (size_t i = 1; i < tasks.size() && first.ok(); i++) first = results_[i - 1];
  return first;
}

}  // namespace immudb
