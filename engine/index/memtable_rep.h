// The memtable of the key index: an ordered skip list like RocksDB's default
// one (one writer at a time, readers without locks), whose inserts start at
// the last insert of the same record kind. See docs/format/index.md (RocksDB
// settings).
#pragma once

#include <rocksdb/memtablerep.h>

#include <memory>

namespace immudb::index {

// The factory for rocksdb::Options::memtable_factory. It supports no
// concurrent inserts: the options must set allow_concurrent_memtable_write =
// false and no prefix_extractor.
std::shared_ptr<rocksdb::MemTableRepFactory> NewIndexMemTableFactory();

}  // namespace immudb::index
