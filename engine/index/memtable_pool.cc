// See memtable_pool.h.
#include "index/memtable_pool.h"

#include <algorithm>
#include <cassert>

#include "util/anon_memory.h"

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
  for (char* c : idle_) UnmapAnonymous(c, chunk_bytes_);
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
  char* p = MapAnonymous(chunk_bytes_);
  if (p == nullptr) return nullptr;
  std::lock_guard<std::mutex> l(mu_);
  mapped_++;
  mapped_total_++;
  return p;
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
  UnmapAnonymous(chunk, chunk_bytes_);
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
