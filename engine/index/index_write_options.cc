// RocksDB settings of the index's write side: how the indexer's batches go
// into the memtable. Read-side settings (block cache, filters, block format)
// are in index_open.cc. See docs/format/index.md (RocksDB settings).
#include <rocksdb/options.h>

#include "index/index_impl.h"
#include "index/memtable_rep.h"

namespace immudb::index {

void ApplyWriteSideOptions(const IndexOptions& opts, rocksdb::ColumnFamilyOptions* o) {
  (void)opts;
  // The indexer writes each kind of record ('H', 'L', 'M': the first byte)
  // in ascending key order, and each batch mostly continues where the
  // previous one of that kind stopped. The index's own skip list
  // (memtable_rep.cc) starts every insert at the previous insert of the same
  // kind; it takes one writer at a time, as the indexer is
  // (allow_concurrent_memtable_write off, a database-wide option). Its nodes come
  // from a pool of chunks that outlives each memtable (memtable_pool.h), and
  // its own key filter replaces RocksDB's memtable bloom filter.
  if (auto factory = NewIndexMemTableFactory(o->comparator, o->write_buffer_size)) {
    o->memtable_factory = std::move(factory);
    o->memtable_prefix_bloom_size_ratio = 0;
  }
}

void ApplyWriteSideOptions(const IndexOptions& opts, rocksdb::Options* o) {
  // The index's skip list takes one writer at a time (DbOptions sets the
  // same for the index).
  o->allow_concurrent_memtable_write = false;
  ApplyWriteSideOptions(opts, static_cast<rocksdb::ColumnFamilyOptions*>(o));
}

}  // namespace immudb::index
