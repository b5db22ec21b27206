// Truncation: discarding the values of old transactions while their headers,
// entries and proofs stay (docs/format/truncation.md). The truncation point is
// written to its own small file (TRUNCATED) before any byte is discarded, so a
// crash at any moment leaves a store whose reads know which values are gone.
#include <algorithm>
#include <limits>

#include "store/store_impl.h"

namespace immudb {

bool IsValueTruncated(const Status& s) {
  return s.code() == StatusCode::kFailedPrecondition &&
         s.message().find(kValueTruncatedMessage) != std::string::npos;
}

}  // namespace immudb

namespace immudb::store {

namespace {

// Holes are punched over whole blocks of this size only: a partial block
// cannot be given back and would only be zeroed.
constexpr uint64_t kHoleBlock = 4096;

}  // namespace

Status StoreImpl::ValueTruncated(const TxEntry& entry) const {
  return Status::FailedPrecondition(std::string(kValueTruncatedMessage) + " (value log offset " +
                                    std::to_string(entry.voff) + "; the values of txs up to " +
                                    std::to_string(TruncatedUpTo()) + " were truncated)");
}

Status StoreImpl::LoadTruncationMark() {
  const std::string path = dir_ + "/" + kTruncatedFile;
  if (!fs_->FileExists(path)) return Status::OK();
  IMMUDB_ASSIGN_OR_RETURN(std::string content, ReadFileToString(fs_, path));
  auto mark = DecodeTruncationMark(content);
  // Unlike the durable mark this is no hint: without it the discarded values
  // could not be told from damaged ones.
  if (!mark.ok()) return mark.status().WithPrefix(path);
  trunc_mark_ = *mark;
  truncated_voff_.store(mark->values_end, std::memory_order_release);
  truncated_upto_.store(mark->truncated_upto, std::memory_order_release);
  return Status::OK();
}

Status StoreImpl::CheckTruncationMark() const {
  const TruncationMark& m = trunc_mark_;
  if (m.truncated_upto == 0) return Status::OK();
  const std::string where = dir_ + "/" + kTruncatedFile;
  if (m.truncated_upto > committed_id()) {
    return Status::Corruption(where + " names tx " + std::to_string(m.truncated_upto) +
                              ", but the logs hold only " + std::to_string(committed_id()) +
                              " intact txs");
  }
  IMMUDB_ASSIGN_OR_RETURN(CommitRecord rec, LoadCommitRecord(m.truncated_upto));
  if (rec.alh != m.alh || rec.vlog_end != m.values_end) {
    return Status::Corruption(where + " does not match tx " + std::to_string(m.truncated_upto) +
                              " of this store (Alh or values end)");
  }
  return Status::OK();
}

Result<Store::TruncationResult> StoreImpl::TruncateValues(uint64_t tx_id) {
  std::lock_guard<std::mutex> tg(trunc_mu_);
  {
    std::lock_guard<std::mutex> g(mu_);
    IMMUDB_RETURN_IF_ERROR(RefusesWrites());
  }
  if (tx_id == 0) return Status::InvalidArgument("cannot truncate up to tx 0: tx ids start at 1");
  const uint64_t committed = committed_id();
  if (tx_id > committed) {
    return Status::InvalidArgument("cannot truncate up to tx " + std::to_string(tx_id) +
                                   ": the last committed tx is " + std::to_string(committed));
  }
  // Recovery finds every tx up to the durable point again without reading
  // values; a later tx may still be cut as a torn tail, and its values are
  // needed to tell.
  const uint64_t durable = durable_id_.load(std::memory_order_acquire);
  if (tx_id > durable) {
    return Status::FailedPrecondition("cannot truncate up to tx " + std::to_string(tx_id) +
                                      ": it is not durable yet (durable up to tx " +
                                      std::to_string(durable) + ")");
  }
  TruncationResult result;
  const std::string path = dir_ + "/" + kTruncatedFile;
  if (tx_id > trunc_mark_.truncated_upto) {
    IMMUDB_ASSIGN_OR_RETURN(CommitRecord rec, ReadCommitRecord(tx_id));
    TruncationMark next = trunc_mark_;
    next.truncated_upto = tx_id;
    next.alh = rec.alh;
    next.values_end = rec.vlog_end;
    // Durable before a single byte goes.
    IMMUDB_RETURN_IF_ERROR(WriteFileAtomic(fs_, path, EncodeTruncationMark(next)));
    trunc_mark_ = next;
    truncated_voff_.store(next.values_end, std::memory_order_release);
    truncated_upto_.store(next.truncated_upto, std::memory_order_release);
  }
  if (trunc_mark_.punched_upto < trunc_mark_.truncated_upto) {
    IMMUDB_RETURN_IF_ERROR(
        PunchValues(trunc_mark_.punched_upto, trunc_mark_.truncated_upto, &result.released_bytes));
    TruncationMark done = trunc_mark_;
    done.punched_upto = done.truncated_upto;
    IMMUDB_RETURN_IF_ERROR(WriteFileAtomic(fs_, path, EncodeTruncationMark(done)));
    trunc_mark_ = done;
  }
  result.truncated_upto = trunc_mark_.truncated_upto;
  return result;
}

Status StoreImpl::PunchValues(uint64_t from, uint64_t to, uint64_t* released) {
  // Values are appended in tx order, so the values of consecutive txs are
  // adjacent when nothing lies between them (format 1's value log): such runs
  // are punched as one range. In formats 2 and 3 each tx's record follows its
  // values, so every tx is a range of its own.
  uint64_t run_start = 0, run_end = 0;
  bool supported = true;
  auto punch = [&]() -> Status {
    const uint64_t a = (run_start + kHoleBlock - 1) / kHoleBlock * kHoleBlock;
    const uint64_t b = run_end / kHoleBlock * kHoleBlock;
    if (!supported || a >= b) return Status::OK();
    Status s = vlog_->PunchHole(a, b - a);
    if (s.code() == StatusCode::kUnimplemented) {
      // The values are still unreadable (the mark says so); the space is
      // not given back on this file system.
      supported = false;
      return Status::OK();
    }
    if (s.ok()) *released += b - a;
    return s;
  };
  for (uint64_t id = from + 1; id <= to; id++) {
    IMMUDB_ASSIGN_OR_RETURN(Tx tx, ReadTx(id));
    uint64_t lo = std::numeric_limits<uint64_t>::max(), hi = 0;
    for (const TxEntry& e : tx.entries) {
      if (e.vlen == 0) continue;
      lo = std::min(lo, e.voff);
      hi = std::max(hi, e.voff + e.vlen);
    }
    if (lo >= hi) continue;
    if (run_end > run_start && lo == run_end) {
      run_end = hi;
      continue;
    }
    IMMUDB_RETURN_IF_ERROR(punch());
    run_start = lo;
    run_end = hi;
  }
  return punch();
}

}  // namespace immudb::store
