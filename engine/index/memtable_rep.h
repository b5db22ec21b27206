// The memtable of the key index: an ordered skip list like RocksDB's default
// one (one writer at a time, readers without locks), whose inserts start at
// the last insert of the same record kind. See docs/format/index.md (RocksDB
// settings).
#pragma once

#include <rocksdb/comparator.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/version.h>

#include <cstddef>
#include <memory>

#include "index/memtable_pool.h"

namespace immudb::index {

// The list places its iterators in RocksDB's internal arena through the
// allocation function RocksDB 7.8 exports (memtable_rep.cc), so it is built
// only against that version; with any other, the index keeps RocksDB's own
// skip list.
#if ROCKSDB_MAJOR == 7 && ROCKSDB_MINOR == 8
#define IMMUDB_INDEX_MEMTABLE 1
#endif

// The memtables the index keeps at most (rocksdb::Options::
// max_write_buffer_number, index_open.cc).
inline constexpr size_t kIndexMemTables = 2;
// The memtable's key filter (memtable_filter.h) is this fraction of the
// write buffer: 128 KiB for 16 MiB, about 11 bits per stored key when every
// key has one version per memtable, the most keys a memtable holds.
inline constexpr size_t kFilterFraction = 128;

// The pool of memtable memory for memtables of `write_buffer_bytes`: chunks
// of RocksDB's arena block size for that buffer, at most kIndexMemTables
// memtables' worth of them idle. nullptr with another RocksDB.
std::shared_ptr<MemTableChunkPool> NewIndexMemTablePool(size_t write_buffer_bytes);

// The factory for rocksdb::Options::memtable_factory, or nullptr when the
// linked RocksDB is not the version it is built for. It supports no
// concurrent inserts: the options must set allow_concurrent_memtable_write =
// false and no prefix_extractor. `user_comparator` is the options'
// comparator; with RocksDB's bytewise one the list compares keys itself and
// keeps its key filter, so the options should set no memtable bloom filter
// (memtable_prefix_bloom_size_ratio = 0). The memtables' nodes come from
// `pool` (nullptr: a new NewIndexMemTablePool(write_buffer_bytes)).
std::shared_ptr<rocksdb::MemTableRepFactory> NewIndexMemTableFactory(
    const rocksdb::Comparator* user_comparator, size_t write_buffer_bytes,
    std::shared_ptr<MemTableChunkPool> pool = nullptr);

}  // namespace immudb::index
