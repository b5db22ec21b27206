// The write path: the write gate, store limits, preconditions and the commit.
//
// A write that depends on the state it reads (preconditions, references,
// sorted-set members, deletes) holds the gate exclusive from its check to its
// commit, with the index covering every committed tx, so no other commit can
// change what it saw. Every commit goes through Write, so under the exclusive
// gate the next tx id is known before the commit.

#include "database/database_impl.h"
#include "store/export.h"
#include "util/seen_keys.h"

namespace immudb::database {

namespace {

const char* KindName(Precondition::Kind k) {
  switch (k) {
    case Precondition::Kind::kKeyMustExist:
      return "KeyMustExist";
    case Precondition::Kind::kKeyMustNotExist:
      return "KeyMustNotExist";
    case Precondition::Kind::kKeyNotModifiedAfterTx:
      return "KeyNotModifiedAfterTxID";
  }
  return "unknown";
}

// The entries of this thread's last write, kept with their strings' buffers
// for its next one (WritePlan::fill), unless they hold more than kKeepBytes:
// a thread that writes batches allocates nothing per entry once its
// buffers fit them. Taken out for the write and put back after it.
class SpareEntries {
 public:
  SpareEntries() : entries_(std::move(Slot())) {}
  ~SpareEntries() {
    constexpr size_t kKeepBytes = 1 << 20;
    size_t bytes = entries_.capacity() * sizeof(EntrySpec);
    for (const EntrySpec& e : entries_) {
      bytes += e.key.capacity() + e.value.capacity();
      if (bytes > kKeepBytes) return;
    }
    Slot() = std::move(entries_);
  }
  SpareEntries(const SpareEntries&) = delete;
  SpareEntries& operator=(const SpareEntries&) = delete;

  std::vector<EntrySpec>* get() { return &entries_; }

 private:
  static std::vector<EntrySpec>& Slot() {
    thread_local std::vector<EntrySpec> slot;
    return slot;
  }
  std::vector<EntrySpec> entries_;
};

}  // namespace

Status DatabaseImpl::CheckEntries(const std::vector<EntrySpec>& entries) const {
  const StoreOptions& so = opts_.store;
  if (entries.empty()) return Status::InvalidArgument("illegal arguments");
  if (entries.size() > so.max_tx_entries) {
    return Status::InvalidArgument("max number of entries per tx exceeded");
  }
  SeenKeys seen(entries.size());
  for (const EntrySpec& e : entries) {
    if (e.key.size() > so.max_key_len) return Status::InvalidArgument("max key length exceeded");
    if (e.value.size() > so.max_value_len) {
      return Status::InvalidArgument("max value length exceeded");
    }
    if (seen.Repeats(e.key)) {
      return Status::InvalidArgument(
          "duplicated keys are not supported in single batch transaction");
    }
  }
  return Status::OK();
}

Status DatabaseImpl::ValidatePreconditions(const std::vector<Precondition>& pre) const {
  if (pre.size() > opts_.store.max_tx_entries) {
    return Status::InvalidArgument("invalid precondition: too many preconditions");
  }
  for (const Precondition& p : pre) {
    if (p.key.empty()) return Status::InvalidArgument("invalid precondition: null key");
    // The limit applies to the stored key, as for entries.
    if (EncodeKey(p.key).size() > opts_.store.max_key_len) {
      return Status::InvalidArgument(
          "invalid precondition: invalid precondition: max key length exceeded");
    }
    if (p.kind == Precondition::Kind::kKeyNotModifiedAfterTx && p.tx_id == 0) {
      return Status::InvalidArgument(
          "invalid precondition: invalid precondition: invalid transaction ID");
    }
  }
  return Status::OK();
}

Status DatabaseImpl::CheckPreconditions(const std::vector<Precondition>& pre) const {
  for (const Precondition& p : pre) {
    auto latest = index_->Get(EncodeKey(p.key));
    if (!latest.ok() && !latest.status().IsNotFound()) {
      return Status(latest.status().code(), std::string("error checking ") + KindName(p.kind) +
                                                " precondition: " + latest.status().message());
    }
    const bool found = latest.ok();
    const bool live = found && !latest->entry.md.deleted && !Expired(latest->entry.md);
    bool holds = false;
    switch (p.kind) {
      case Precondition::Kind::kKeyMustExist:
        holds = live;
        break;
      case Precondition::Kind::kKeyMustNotExist:
        holds = !live;
        break;
      case Precondition::Kind::kKeyNotModifiedAfterTx:
        // Any version counts, deleted and expired ones included.
        holds = !found || latest->tx <= p.tx_id;
        break;
    }
    if (!holds) {
      return Status::FailedPrecondition(std::string("precondition failed: ") + KindName(p.kind));
    }
  }
  return Status::OK();
}

Result<TxHeader> DatabaseImpl::Write(const WritePlan& plan) {
  IMMUDB_RETURN_IF_ERROR(CheckOpen());
  if (opts_.replica) {
    return Status(StatusCode::kUnknown, "database is read-only because it's a replica");
  }
  static const std::vector<Precondition> kNone;
  const std::vector<Precondition>& pre = plan.preconditions ? *plan.preconditions : kNone;
  IMMUDB_RETURN_IF_ERROR(ValidatePreconditions(pre));
  const bool exclusive = plan.exclusive || !pre.empty();
  TxHeader h;
  {
    WriteGuard guard(&gate_, exclusive);
    uint64_t next_tx = 0;
    if (exclusive) {
      // No commit is in flight: the last tx is final until we commit.
      const uint64_t last = store_->CurrentState().tx_id;
      if (plan.wait_index || !pre.empty()) IMMUDB_RETURN_IF_ERROR(WaitIndex(last));
      next_tx = last + 1;
    }
    SpareEntries spare;
    std::vector<EntrySpec>& entries = *spare.get();
    if (plan.fill) {
      IMMUDB_RETURN_IF_ERROR(plan.fill(next_tx, &entries));
    } else {
      IMMUDB_ASSIGN_OR_RETURN(entries, plan.build(next_tx));
    }
    IMMUDB_RETURN_IF_ERROR(CheckEntries(entries));
    IMMUDB_RETURN_IF_ERROR(CheckPreconditions(pre));
    IMMUDB_RETURN_IF_ERROR(CheckOpen());
    IMMUDB_ASSIGN_OR_RETURN(h, store_->CommitReusing(&entries));
    if (exclusive && h.id != next_tx) {
      return Status::Internal("tx " + std::to_string(h.id) + " committed where tx " +
                              std::to_string(next_tx) + " was expected");
    }
  }
  if (!plan.no_wait) IMMUDB_RETURN_IF_ERROR(WaitIndex(h.id));
  return h;
}

Result<std::string> DatabaseImpl::ExportTx(uint64_t id) {
  IMMUDB_RETURN_IF_ERROR(CheckOpen());
  if (id == 0 || id > store_->CurrentState().tx_id) return Status::NotFound("tx not found");
  return store::ExportTx(*store_, id);
}

Result<TxHeader> DatabaseImpl::ReplicateTx(std::string_view exported, bool no_wait) {
  IMMUDB_RETURN_IF_ERROR(CheckOpen());
  if (!opts_.replica) return Status::FailedPrecondition("database is not a replica");
  IMMUDB_ASSIGN_OR_RETURN(store::ExportedTx x, store::DecodeExportedTx(exported));
  TxHeader h;
  {
    WriteGuard guard(&gate_, /*exclusive=*/true);
    IMMUDB_RETURN_IF_ERROR(CheckOpen());
    IMMUDB_ASSIGN_OR_RETURN(h, store_->CommitExported(x.header, std::move(x.entries)));
  }
  if (!no_wait) IMMUDB_RETURN_IF_ERROR(WaitIndex(h.id));
  return h;
}

}  // namespace immudb::database
