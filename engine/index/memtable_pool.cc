// See memtable_pool.h.
#include "index/memtable_pool.h"

#include <sys/mman.h>

#include <algorithm>
#include <cassert>

namespace immudb::index {

namespace {

constexpr size_t kPage = 4096;

}  // namespace

MemTableChunkPool::MemTableChunkPool(size_t chunk_bytes, size_t max_idle_chunks)
    : chunk_bytes_((std::max<size_t>(chunk_bytes, 1) + kPage - 1) / kPage * kPage),
      max_idle_(max_idle_chunks) {
  idle_.reserve(max_idle_);
}

MemTableChunkPool::~MemTableChunkPool() {
  assert(mapped_ == idle_.size());
  for (char* c : idle_) munmap(c, chunk_bytes_);
}

char* MemTableChunkPool::Acquire() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!idle_.empty()) {
      char* c = idle_.back();
      idle_.pop_back();
      return c;
    }
  }
  void* p = mmap(nullptr, chunk_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  std::lock_guard<std::mutex> l(mu_);
  mapped_++;
  mapped_total_++;
  return static_cast<char*>(p);
}

void MemTableChunkPool::Release(char* chunk) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (idle_.size() < max_idle_) {
      idle_.push_back(chunk);
      return;
    }
    mapped_--;
  }
  munmap(chunk, chunk_bytes_);
}

size_t MemTableChunkPool::mapped_chunks() const {
  std::lock_guard<std::mutex> l(mu_);
  return mapped_;
}

size_t MemTableChunkPool::idle_chunks() const {
  std::lock_guard<std::mutex> l(mu_);
  return idle_.size();
}

size_t MemTableChunkPool::chunks_mapped_total() const {
  std::lock_guard<std::mutex> l(mu_);
  return mapped_total_;
}

}  // namespace immudb::index
