// Mapped reads of the value log. See value_map.h.
#include "store/value_map.h"

#include <cstring>

#include "appendable/appendable.h"

namespace immudb::store {

namespace {

constexpr uint64_t kMaxChunk = 16ull << 20;
constexpr uint64_t kPage = 4096;  // Mappings start at multiples of it.
// Chunk numbers tracked: 1 TiB of log with 16 MiB chunks. Chunks past it are
// read by the caller.
constexpr size_t kMaxChunks = size_t{1} << 16;
constexpr uint64_t kRetryEvery = 256;

}  // namespace

uint64_t ValueMap::ChunkSize(uint64_t segment_size) {
  const uint64_t c = segment_size <= kMaxChunk ? segment_size : kMaxChunk;
  if (c == 0 || c % kPage != 0 || segment_size % c != 0) return 0;
  return c;
}

ValueMap::ValueMap(FileSystem* fs, std::string dir, std::string ext, uint64_t segment_size,
                   uint64_t budget_bytes)
    : fs_(fs),
      dir_(std::move(dir)),
      ext_(std::move(ext)),
      segment_size_(segment_size),
      chunk_(ChunkSize(segment_size)),
      budget_(budget_bytes) {
  if (chunk_ == 0 || budget_ < chunk_) {
    full_.store(true);
    return;
  }
  max_chunks_ = kMaxChunks;
  chunks_.reset(new std::atomic<const char*>[max_chunks_]);
  for (size_t i = 0; i < max_chunks_; i++) chunks_[i].store(nullptr, std::memory_order_relaxed);
}

ValueMap::~ValueMap() = default;

void ValueMap::LowerBudget(uint64_t bytes) {
  std::lock_guard<std::mutex> l(mu_);
  if (bytes >= budget_) return;
  budget_ = bytes;
  if (chunk_ == 0 || mapped_bytes_.load(std::memory_order_relaxed) + chunk_ > budget_) {
    full_.store(true, std::memory_order_relaxed);
  }
}

bool ValueMap::Read(uint64_t offset, size_t n, char* dst) const {
  if (max_chunks_ == 0) return false;
  const uint64_t c = offset / chunk_;
  const uint64_t within = offset % chunk_;
  if (c >= max_chunks_ || n > chunk_ - within) return false;
  const char* p = chunks_[c].load(std::memory_order_acquire);
  if (p == nullptr) {
    if (full_.load(std::memory_order_relaxed)) return false;
    p = MapChunk(c);
    if (p == nullptr) return false;
  }
  std::memcpy(dst, p + within, n);
  return true;
}

const char* ValueMap::MapChunk(uint64_t c) const {
  std::lock_guard<std::mutex> l(mu_);
  if (const char* p = chunks_[c].load(std::memory_order_acquire)) return p;
  if (full_.load(std::memory_order_relaxed)) return nullptr;
  if (mapped_bytes_.load(std::memory_order_relaxed) + chunk_ > budget_) {
    full_.store(true, std::memory_order_relaxed);
    return nullptr;
  }
  // The file must already reach the chunk's end (the store's zeros written
  // ahead of the data count): a mapped page past the end of the file cannot
  // be read. Until it does, only some of the reads that find it so retry.
  if (misses_.load(std::memory_order_relaxed) % kRetryEvery != 0) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  const uint64_t segment = c * chunk_ / segment_size_;
  const uint64_t in_segment = c * chunk_ % segment_size_;
  const std::string path = SegmentPath(dir_, segment, ext_);
  auto size = fs_->GetFileSize(path);
  if (!size.ok() || *size < in_segment + chunk_) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  auto region = fs_->MapReadOnly(path, in_segment, chunk_);
  if (!region.ok()) {
    // Not mappable here (e.g. an in-memory file system): stop trying.
    if (region.status().code() == StatusCode::kUnimplemented)
      full_.store(true, std::memory_order_relaxed);
    misses_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  const char* p = (*region)->data();
  regions_.push_back(std::move(region).value());
  mapped_bytes_.fetch_add(chunk_, std::memory_order_relaxed);
  chunks_[c].store(p, std::memory_order_release);
  return p;
}

}  // namespace immudb::store
