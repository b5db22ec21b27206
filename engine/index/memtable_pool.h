// MemTableChunkPool: the memory of the index's memtables, in chunks of one
// size that go back to the pool when a memtable is freed and are handed to
// the next memtable. Fresh anonymous memory costs a page fault per 4 KiB page
// on first touch (about 6 us each on a paravirtualized guest, where it was
// most of a memtable insert); reused chunks are already resident.
//
// Bound: the pool maps a new chunk only when it has no idle one, so the
// memory it holds (chunks in memtables plus idle ones) is never more than
// the memtables held at their peak; of that, at most `max_idle_chunks` stay
// idle, and chunks released past that are unmapped at once. The index keeps
// at most two memtables, so the pool is sized for two (NewIndexMemTablePool,
// memtable_rep.h).
//
// Thread-safety: all members may be called from any thread. Memtables are
// filled by the indexer and freed by whichever thread drops their last
// reference (RocksDB's flush thread, a reader, the close).
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

namespace immudb::index {

class MemTableChunkPool {
 public:
  // Chunks of `chunk_bytes` (rounded up to whole 4 KiB pages); at most
  // `max_idle_chunks` kept idle.
  MemTableChunkPool(size_t chunk_bytes, size_t max_idle_chunks);
  ~MemTableChunkPool();  // Unmaps the idle chunks; every chunk must be back.
  MemTableChunkPool(const MemTableChunkPool&) = delete;
  MemTableChunkPool& operator=(const MemTableChunkPool&) = delete;

  // An idle chunk (most recently released first: its pages are the likeliest
  // to be in cache), else a newly mapped one; nullptr when no memory can be
  // mapped.
  char* Acquire();
  // Returns a chunk from Acquire: kept idle, or unmapped when the pool
  // already keeps max_idle_chunks idle.
  void Release(char* chunk);

  size_t chunk_bytes() const { return chunk_bytes_; }
  size_t max_idle_chunks() const { return max_idle_; }
  // Chunks mapped now: handed out plus idle.
  size_t mapped_chunks() const;
  size_t idle_chunks() const;
  // Chunks mapped since construction (a reused chunk is not counted again).
  size_t chunks_mapped_total() const;

 private:
  const size_t chunk_bytes_;
  const size_t max_idle_;
  mutable std::mutex mu_;
  std::vector<char*> idle_;  // GUARDED_BY(mu_)
  size_t mapped_ = 0;        // GUARDED_BY(mu_)
  size_t mapped_total_ = 0;  // GUARDED_BY(mu_)
};

}  // namespace immudb::index
