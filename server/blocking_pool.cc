#include "server/blocking_pool.h"

#include <pthread.h>

#include <utility>

namespace immudb::server {

BlockingPool::BlockingPool(size_t max_threads) : max_threads_(max_threads < 1 ? 1 : max_threads) {}

BlockingPool::~BlockingPool() {
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
    threads.swap(threads_);
  }
  cv_.notify_all();
  for (auto& t : threads) t.join();
}

void BlockingPool::Submit(std::function<void()> work) {
  std::unique_lock<std::mutex> l(mu_);
  if (stopping_) {  // Only while the owner is being destroyed: run it here.
    l.unlock();
    work();
    return;
  }
  queue_.push_back(std::move(work));
  if (idle_ >= queue_.size()) {
    l.unlock();
    cv_.notify_one();
    return;
  }
  if (threads_.size() < max_threads_) threads_.emplace_back([this] { Loop(); });
}

size_t BlockingPool::threads() const {
  std::lock_guard<std::mutex> l(mu_);
  return threads_.size();
}

void BlockingPool::Loop() {
  pthread_setname_np(pthread_self(), "immudb-handler");
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    if (!queue_.empty()) {
      std::function<void()> work = std::move(queue_.front());
      queue_.pop_front();
      l.unlock();
      work();
      l.lock();
      continue;
    }
    if (stopping_) return;
    idle_++;
    cv_.wait(l, [this] { return stopping_ || !queue_.empty(); });
    idle_--;
  }
}

}  // namespace immudb::server
