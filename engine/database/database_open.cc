// Database lifecycle, limits, waiting for the index, and tx reads.
#include <algorithm>
#include <chrono>

#include "database/database_impl.h"

namespace immudb {

Result<std::unique_ptr<Database>> Database::Open(const std::string& dir,
                                                 const DatabaseOptions& opts) {
  if (opts.max_result_size == 0) return Status::InvalidArgument("max_result_size must be > 0");
  IMMUDB_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, Store::Open(dir, opts.store));
  auto db = std::make_unique<database::DatabaseImpl>(opts, std::move(store));
  IMMUDB_RETURN_IF_ERROR(db->OpenIndex(dir + "/index"));
  return std::unique_ptr<Database>(std::move(db));
}

namespace database {

DatabaseImpl::DatabaseImpl(const DatabaseOptions& opts, std::unique_ptr<Store> store)
    : opts_(opts), store_(std::move(store)) {
  if (!opts_.now_unix_seconds) opts_.now_unix_seconds = opts_.store.now_unix_seconds;
  if (!opts_.now_unix_seconds) {
    opts_.now_unix_seconds = [] {
      return std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  }
}

DatabaseImpl::~DatabaseImpl() {
  Status ignored = Close();
  (void)ignored;
}

Status DatabaseImpl::OpenIndex(const std::string& dir) {
  index::IndexOptions io;
  io.verify_checksums_on_open = opts_.verify_index_on_open;
  io.block_cache_bytes = opts_.index_block_cache_bytes;
  io.inline_value_max_bytes = opts_.index_inline_value_bytes;
  io.write_buffer_bytes = opts_.index_write_buffer_bytes;
  io.env = opts_.index_env;
  io.block_cache_max_bytes = MaxBlockCacheBytes(io.block_cache_bytes, opts_.store.value_map_bytes);
  IMMUDB_ASSIGN_OR_RETURN(index_, index::Index::Open(dir, store_.get(), io));
  const ReadMemory m = SplitReadMemory(index_->LatestRecordsBytes(), io.block_cache_bytes,
                                       opts_.store.value_map_bytes);
  if (m.block_cache_bytes != io.block_cache_bytes) {
    index_->SetBlockCacheBytes(m.block_cache_bytes);
    store_->LimitValueMap(m.value_map_bytes);
  }
  return Status::OK();
}

uint64_t MaxBlockCacheBytes(uint64_t cache_bytes, uint64_t map_bytes) {
  // The clock cache allocates its table for this size when created.
  return cache_bytes + std::min(map_bytes, 3 * cache_bytes);
}

ReadMemory SplitReadMemory(uint64_t latest_bytes, uint64_t cache_bytes, uint64_t map_bytes) {
  // Below the latest records' size a cached MiB saves a block read for about
  // 12,000 keys and a mapped MiB a value read for about 3,600: the cache
  // comes first, up to what those records need.
  const uint64_t max = MaxBlockCacheBytes(cache_bytes, map_bytes);
  if (latest_bytes <= cache_bytes) return {cache_bytes, map_bytes};
  const uint64_t give = std::min(latest_bytes, max) - cache_bytes;
  return {cache_bytes + give, map_bytes - give};
}

Status DatabaseImpl::Close() {
  if (closed_.exchange(true)) return Status::OK();
  // The indexer reads the store: stop it first.
  Status s = index_ ? index_->Close() : Status::OK();
  Status c = store_->Close();
  return s.ok() ? c : s;
}

Status DatabaseImpl::CheckOpen() const {
  if (closed_.load()) return Status::FailedPrecondition("database is closed");
  return Status::OK();
}

Status DatabaseImpl::CheckSinceTx(uint64_t since_tx) const {
  IMMUDB_RETURN_IF_ERROR(CheckOpen());
  if (since_tx > store_->CurrentState().tx_id) {
    return Status::InvalidArgument(
        "illegal arguments: SinceTx must not be greater than the current transaction ID");
  }
  return Status::OK();
}

Status DatabaseImpl::CheckScanSinceTx(uint64_t since_tx) const {
  IMMUDB_RETURN_IF_ERROR(CheckOpen());
  if (since_tx > store_->CurrentState().tx_id) return Status::InvalidArgument("illegal arguments");
  return Status::OK();
}

Status DatabaseImpl::WaitIndex(uint64_t tx) const {
  if (tx == 0) tx = store_->CurrentState().tx_id;
  return index_->WaitFor(tx, opts_.index_wait_timeout_ms);
}

bool DatabaseImpl::Expired(const KVMetadata& md) const {
  return md.expires_at && *md.expires_at <= opts_.now_unix_seconds();
}

Result<size_t> DatabaseImpl::MaxResults(uint64_t limit) const {
  if (limit > opts_.max_result_size) {
    return Status::InvalidArgument(
        "result size limit exceeded: the specified limit (" + std::to_string(limit) +
        ") is larger than the maximum allowed one (" + std::to_string(opts_.max_result_size) + ")");
  }
  return limit == 0 ? opts_.max_result_size : static_cast<size_t>(limit);
}

StoreState DatabaseImpl::CurrentState() { return store_->CurrentState(); }

uint64_t DatabaseImpl::IndexedUpTo() { return index_->IndexedUpTo(); }

Status DatabaseImpl::FlushIndex() {
  IMMUDB_RETURN_IF_ERROR(CheckOpen());
  return index_->Flush();
}

Status DatabaseImpl::CompactIndex() {
  IMMUDB_RETURN_IF_ERROR(CheckOpen());
  return index_->Compact();
}

Result<Tx> DatabaseImpl::TxById(uint64_t id) {
  IMMUDB_RETURN_IF_ERROR(CheckOpen());
  if (id == 0) return Status::InvalidArgument("illegal arguments");
  auto tx = store_->ReadTx(id);
  if (!tx.ok() && tx.status().IsNotFound()) return Status::NotFound("tx not found");
  return tx;
}

Result<std::vector<Tx>> DatabaseImpl::TxScan(uint64_t initial_tx, uint64_t limit, bool desc) {
  IMMUDB_RETURN_IF_ERROR(CheckOpen());
  IMMUDB_ASSIGN_OR_RETURN(size_t n, MaxResults(limit));
  const uint64_t last = store_->CurrentState().tx_id;
  if (initial_tx == 0 || initial_tx > last) return Status::NotFound("tx not found");
  std::vector<Tx> out;
  for (uint64_t id = initial_tx; out.size() < n && id >= 1 && id <= last; desc ? id-- : id++) {
    IMMUDB_ASSIGN_OR_RETURN(Tx tx, store_->ReadTx(id));
    out.push_back(std::move(tx));
  }
  return out;
}

Result<std::string> DatabaseImpl::ReadValue(const TxEntry& entry) {
  IMMUDB_RETURN_IF_ERROR(CheckOpen());
  return store_->ReadValue(entry);
}

}  // namespace database
}  // namespace immudb
