// Truncation at the database level: the cut chosen from a retention period as
// immudb's truncator does (docs/format/truncation.md). The key index reads
// only tx entries (keys, metadata, value hashes and offsets), never values, so
// it keeps indexing and rebuilding across truncated txs.
#include "database/database_impl.h"

namespace immudb::database {

Result<uint64_t> DatabaseImpl::TruncateUpToTx(uint64_t tx_id) {
  IMMUDB_RETURN_IF_ERROR(CheckOpen());
  IMMUDB_ASSIGN_OR_RETURN(Store::TruncationResult r, store_->TruncateValues(tx_id));
  return r.truncated_upto;
}

uint64_t DatabaseImpl::TruncatedUpTo() { return store_->TruncatedUpTo(); }

Result<uint64_t> DatabaseImpl::Truncate(uint64_t retention_seconds) {
  IMMUDB_RETURN_IF_ERROR(CheckOpen());
  constexpr int64_t kDay = 86400;
  const int64_t now = opts_.now_unix_seconds();
  if (retention_seconds > static_cast<uint64_t>(now)) {
    return Status::FailedPrecondition("retention period has not been reached");
  }
  // 00:00 UTC of the day `retention_seconds` ago.
  int64_t until = now - static_cast<int64_t>(retention_seconds);
  until -= ((until % kDay) + kDay) % kDay;
  // The last tx committed at or before `until` (timestamps never decrease).
  uint64_t lo = 1, hi = store_->CurrentState().tx_id;
  if (hi == 0) return Status::FailedPrecondition("retention period has not been reached");
  IMMUDB_ASSIGN_OR_RETURN(TxHeader first, store_->ReadTxHeader(1));
  if (first.ts > until) return Status::FailedPrecondition("retention period has not been reached");
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo + 1) / 2;
    IMMUDB_ASSIGN_OR_RETURN(TxHeader h, store_->ReadTxHeader(mid));
    if (h.ts > until) {
      hi = mid - 1;
    } else {
      lo = mid;
    }
  }
  // Every tx has entries here, so the cut tx is `lo`; its own values stay.
  if (lo <= 1) return store_->TruncatedUpTo();
  return TruncateUpToTx(lo - 1);
}

}  // namespace immudb::database
