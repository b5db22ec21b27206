// The filter of the index's memtable (memtable_rep.cc): which stored keys
// have records in one memtable. A point lookup of an 'L' or 'H' record
// (Index::Get, GetRevision, GetAsOf, the indexer's MultiGet of new keys) asks
// it before searching the memtable's skip list.
//
// It holds the stored key of each record, not the record key: the 'L' record
// and the 'H' records of one key are one filter entry, so indexing a key's
// version touches one filter line (RocksDB's memtable bloom filter took two
// cache misses per version, one per record, in a filter sized for both).
// It lives in the memtable only: nothing of it is written to the SSTs.
//
// The filter is blocked: each key sets kProbes bits of one 64-byte line, so
// an insert or a lookup costs one cache line. Thread-safety: one writer (the
// memtable's), readers without locks; bits are set with relaxed atomics and
// become visible to a reader with the write that RocksDB publishes after the
// insert (its sequence number).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace immudb::index {

// A 64-bit hash of a stored key.
uint64_t MemTableKeyHash(std::string_view key);

// The stored key of an index record key ('L' || key, or 'H' || u32BE(len) ||
// key || u64BE(revision), docs/format/index.md); false for other keys ('M'
// markers, malformed ones), which the filter does not hold.
bool StoredKeyOfRecordKey(std::string_view record_key, std::string_view* stored);

class MemTableKeyFilter {
 public:
  // The size of a filter of about `bytes`: a power of two of 64-byte lines,
  // at least one.
  static size_t SizeFor(size_t bytes);
  // A filter of SizeFor(bytes) in its own memory.
  explicit MemTableKeyFilter(size_t bytes);
  // A filter of SizeFor(bytes) in `memory` (that many bytes, 8-byte aligned),
  // which it zeroes and which must outlive it.
  MemTableKeyFilter(size_t bytes, void* memory);
  ~MemTableKeyFilter();
  MemTableKeyFilter(const MemTableKeyFilter&) = delete;
  MemTableKeyFilter& operator=(const MemTableKeyFilter&) = delete;

  // One writer at a time.
  void Add(uint64_t hash);
  // False only when no Add of `hash` happened before.
  bool MayContain(uint64_t hash) const;
  size_t bytes() const { return lines_ * kLineBytes; }

 private:
  static constexpr size_t kLineBytes = 64;
  static constexpr size_t kLineWords = kLineBytes / 8;
  static constexpr int kProbes = 6;

  const size_t lines_;
  std::unique_ptr<std::atomic<uint64_t>[]> owned_;
  std::atomic<uint64_t>* words_;
};

}  // namespace immudb::index
