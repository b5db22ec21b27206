// The memtable of the key index: an ordered skip list like RocksDB's default
// one (one writer at a time, readers without locks), whose inserts start at
// the last insert of the same record kind. See docs/format/index.md (RocksDB
// settings).
#pragma once

#include <rocksdb/comparator.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/version.h>

#include <memory>

namespace immudb::index {

// The list places its iterators in RocksDB's internal arena through the
// allocation function RocksDB 7.8 exports (memtable_rep.cc), so it is built
// only against that version; with any other, the index keeps RocksDB's own
// skip list.
#if ROCKSDB_MAJOR == 7 && ROCKSDB_MINOR == 8
#define IMMUDB_INDEX_MEMTABLE 1
#endif

// The factory for rocksdb::Options::memtable_factory, or nullptr when the
// linked RocksDB is not the version it is built for. It supports no
// concurrent inserts: the options must set allow_concurrent_memtable_write =
// false and no prefix_extractor. `user_comparator` is the options'
// comparator; with RocksDB's bytewise one the list compares keys itself.
std::shared_ptr<rocksdb::MemTableRepFactory> NewIndexMemTableFactory(
    const rocksdb::Comparator* user_comparator);

}  // namespace immudb::index
