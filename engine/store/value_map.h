// ValueMap: reads of the value log through read-only mappings of its segment
// files, so that a value read costs a copy instead of a pread(2).
//
// The log is mapped in fixed chunks, each on the first read that falls in it,
// as long as the chunks mapped so far stay within a byte budget (mapped file
// pages count in the process's resident memory); reads in other chunks, in
// chunks the file does not hold yet, or across a chunk boundary are left to
// the caller (Read returns false). A chunk stays mapped until the ValueMap is
// destroyed.
//
// What a mapping shows is the file: bytes still in the appendable's write
// buffer read as the zeros written ahead of the data (or garbage while they
// are written), and bytes given back by truncation read as zeros. Callers
// check what they read against its hash and read again through the
// appendable when it does not match.
//
// Files must not shrink while mapped: the store cuts its logs only while
// opening, before the ValueMap exists.
//
// Thread-safety: Read is thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "immudb/env.h"

namespace immudb::store {

class ValueMap {
 public:
  // The segments "<dir>/<8 digits>.<ext>" of `segment_size` bytes
  // (docs/format/appendable.md). Maps nothing when budget_bytes is below one
  // chunk or the segment size is not a multiple of the chunk size.
  ValueMap(FileSystem* fs, std::string dir, std::string ext, uint64_t segment_size,
           uint64_t budget_bytes);
  ~ValueMap();
  ValueMap(const ValueMap&) = delete;
  ValueMap& operator=(const ValueMap&) = delete;

  // Copies bytes [offset, offset + n) of the log into dst and returns true
  // when they lie in one chunk that is (or now gets) mapped; false otherwise.
  bool Read(uint64_t offset, size_t n, char* dst) const;

  // Lowers the budget to `bytes` (never raises it): chunks already mapped
  // stay mapped, and no further chunk is mapped past the new budget.
  void LowerBudget(uint64_t bytes);

  // Bytes mapped so far.
  uint64_t mapped_bytes() const { return mapped_bytes_.load(std::memory_order_relaxed); }

  // Chunk size for a segment size: 16 MiB, or the segment size when smaller.
  static uint64_t ChunkSize(uint64_t segment_size);

 private:
  // Maps chunk c if the budget and the file allow; returns its bytes or null.
  const char* MapChunk(uint64_t c) const;

  FileSystem* const fs_;
  const std::string dir_;
  const std::string ext_;
  const uint64_t segment_size_;
  const uint64_t chunk_;
  uint64_t budget_;  // Guarded by mu_.
  // Chunk number -> mapped bytes (null: not mapped yet). Chunks past its end
  // are never mapped.
  std::unique_ptr<std::atomic<const char*>[]> chunks_;
  size_t max_chunks_ = 0;
  // No chunk is mapped any more once the budget is used up.
  mutable std::atomic<bool> full_{false};
  mutable std::atomic<uint64_t> mapped_bytes_{0};
  // Reads that found their chunk unmapped and not mappable yet (the file
  // does not reach its end); only every kRetryEvery-th tries again, so reads
  // of the newest values do not pay a stat(2) each.
  mutable std::atomic<uint64_t> misses_{0};
  mutable std::mutex mu_;                                       // Serializes MapChunk.
  mutable std::vector<std::unique_ptr<MappedRegion>> regions_;  // Guarded by mu_.
};

}  // namespace immudb::store
