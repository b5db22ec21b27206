// Plain keys: Set, Get, GetAll, Delete, History, Scan, Count, and the
// resolution of stored versions into entries (deleted, expired, references).
#include <set>

#include "database/database_impl.h"
#include "immudb/hash.h"
#include "util/coding.h"
#include "util/op_phases.h"

namespace immudb::database {

namespace {

Status KeyNotFound() { return Status::NotFound("key not found"); }

// Parses a reference value 0x01 || u64(atTx) || 0x00 || key.
bool ParseReference(std::string_view v, uint64_t* at_tx, std::string* user_key) {
  if (v.size() < 10 || v[0] != 0x01 || v[9] != 0x00) return false;
  *at_tx = GetU64BE(reinterpret_cast<const uint8_t*>(v.data() + 1));
  user_key->assign(v.substr(10));
  return true;
}

}  // namespace

Result<RawVersion> DatabaseImpl::Materialize(index::IndexedEntry&& ie) const {
  RawVersion r{ie.tx, ie.index, ie.revision, std::move(ie.entry), {}};
  // A value the index record carries is used only when it matches the
  // entry's hash, as a value read from the log is (Store::ReadValue); one of
  // a tx whose values truncation discarded is not used at all: ReadValue
  // reports the truncation.
  if (ie.value_inline && ie.tx > store_->TruncatedUpTo()) {
    if (ie.value.size() != r.entry.vlen || Sha256Of(ie.value) != r.entry.hval) {
      return Status::Corruption("value of tx " + std::to_string(ie.tx) +
                                " in the key index does not match its hash");
    }
    r.value = std::move(ie.value);
    return r;
  }
  IMMUDB_ASSIGN_OR_RETURN(r.value, store_->ReadValue(r.entry));
  return r;
}

Result<RawVersion> DatabaseImpl::Materialize(const index::IndexedEntry& ie) const {
  if (ie.value_inline) return Materialize(index::IndexedEntry(ie));
  RawVersion r{ie.tx, ie.index, ie.revision, ie.entry, {}};
  IMMUDB_ASSIGN_OR_RETURN(r.value, store_->ReadValue(r.entry));
  return r;
}

Result<RawVersion> DatabaseImpl::LatestRaw(std::string_view stored_key, TxRead* read) const {
  Result<index::IndexedEntry> ie = [&] {
    PhaseScope phase(OpPhase::kIndex);
    return index_->Get(stored_key);
  }();
  if (!ie.ok()) return ie.status().IsNotFound() ? KeyNotFound() : ie.status();
  if (read == nullptr || ie->value_inline || ie->entry.vlen == 0) {
    PhaseScope phase(OpPhase::kValue);
    return Materialize(std::move(ie).value());
  }
  RawVersion raw{ie->tx, ie->index, ie->revision, std::move(ie->entry), {}};
  Result<Tx> tx = [&]() -> Result<Tx> {
    if (read->target != nullptr && read->target->id > raw.tx) {
      DualProof proof;  // The store times its parts: tx, AHT terms, linear terms.
      IMMUDB_ASSIGN_OR_RETURN(
          Tx t, store_->ReadTxAndValueWithProof(raw.tx, raw.index, raw.entry, *read->target,
                                                &raw.value, &proof));
      read->proof = std::move(proof);
      return t;
    }
    PhaseScope phase(OpPhase::kTx);  // The value's read included.
    return store_->ReadTxAndValue(raw.tx, raw.entry, &raw.value);
  }();
  if (!tx.ok()) return tx.status().IsNotFound() ? Status::NotFound("tx not found") : tx.status();
  read->tx = std::move(tx).value();
  return raw;
}

Result<RawVersion> DatabaseImpl::AtTxRaw(std::string_view stored_key, uint64_t tx_id) const {
  auto tx = store_->ReadTx(tx_id);
  if (!tx.ok()) return tx.status().IsNotFound() ? Status::NotFound("tx not found") : tx.status();
  for (size_t i = 0; i < tx->entries.size(); i++) {
    if (tx->entries[i].key != stored_key) continue;
    RawVersion r{tx_id, static_cast<uint32_t>(i), 0, std::move(tx->entries[i]), {}};
    IMMUDB_ASSIGN_OR_RETURN(r.value, store_->ReadValue(r.entry));
    return r;
  }
  return KeyNotFound();
}

Result<Entry> DatabaseImpl::Resolve(std::string_view user_key, const RawVersion& raw,
                                    bool follow) const {
  if (raw.entry.md.deleted) return KeyNotFound();
  if (Expired(raw.entry.md)) return Status::NotFound("key not found: expired entry");
  if (raw.value.empty()) return KeyNotFound();
  if (raw.value[0] == 0x00) {
    return Entry{raw.tx, std::string(user_key), raw.value.substr(1), std::nullopt, raw.entry.md,
                 false,  raw.revision};
  }
  uint64_t at_tx = 0;
  std::string target;
  if (!ParseReference(raw.value, &at_tx, &target)) {
    return Status::Corruption("unknown stored value type in tx " + std::to_string(raw.tx));
  }
  if (!follow) {
    return Status::InvalidArgument(
        "key resolution limit reached. It may be due to cyclic references");
  }
  const std::string stored_target = EncodeKey(target);
  auto target_raw = at_tx > 0 ? AtTxRaw(stored_target, at_tx) : LatestRaw(stored_target);
  if (!target_raw.ok()) return target_raw.status();
  IMMUDB_ASSIGN_OR_RETURN(Entry e, Resolve(target, *target_raw, false));
  e.referenced_by = Reference{raw.tx, std::string(user_key), at_tx, raw.entry.md, raw.revision};
  return e;
}

Result<Entry> DatabaseImpl::GetUnlocked(const KeyRequest& req, TxRead* read) const {
  if (read != nullptr) read->Clear();
  if (req.key.empty()) return Status::InvalidArgument("illegal arguments: empty key");
  if (req.at_tx > 0 && req.since_tx > 0) {
    return Status::InvalidArgument(
        "illegal arguments: SinceTx should not be specified when AtTx is used");
  }
  if (req.at_tx > 0 && req.at_revision != 0) {
    return Status::InvalidArgument(
        "illegal arguments: AtRevision should not be specified when AtTx is used");
  }
  IMMUDB_RETURN_IF_ERROR(CheckSinceTx(req.since_tx));
  const std::string key = EncodeKey(req.key);
  if (req.at_tx > 0) {
    IMMUDB_ASSIGN_OR_RETURN(RawVersion raw, AtTxRaw(key, req.at_tx));
    return Resolve(req.key, raw, true);
  }
  if (!req.no_wait) IMMUDB_RETURN_IF_ERROR(WaitIndex(req.since_tx));
  if (req.at_revision == 0) {
    IMMUDB_ASSIGN_OR_RETURN(RawVersion raw, LatestRaw(key, read));
    IMMUDB_ASSIGN_OR_RETURN(Entry e, Resolve(req.key, raw, true));
    if (read != nullptr && e.referenced_by) read->Clear();
    return e;
  }
  auto latest = index_->Get(key);
  if (!latest.ok()) return latest.status().IsNotFound() ? KeyNotFound() : latest.status();
  const int64_t n = static_cast<int64_t>(latest->revision);
  const int64_t rev = req.at_revision > 0 ? req.at_revision : n + req.at_revision;
  if (rev < 1 || rev > n) return KeyNotFound();
  IMMUDB_ASSIGN_OR_RETURN(index::IndexedEntry ie,
                          index_->GetRevision(key, static_cast<uint64_t>(rev)));
  IMMUDB_ASSIGN_OR_RETURN(RawVersion raw, Materialize(ie));
  return Resolve(req.key, raw, true);
}

Result<Entry> DatabaseImpl::Get(const KeyRequest& req) { return GetUnlocked(req); }

Result<std::vector<Entry>> DatabaseImpl::GetAll(const std::vector<std::string>& keys,
                                                uint64_t since_tx) {
  IMMUDB_RETURN_IF_ERROR(CheckScanSinceTx(since_tx));
  IMMUDB_RETURN_IF_ERROR(WaitIndex(since_tx));
  std::vector<Entry> out;
  for (const std::string& k : keys) {
    if (k.empty()) continue;  // No key has an empty name: not found.
    KeyRequest req;
    req.key = k;
    req.no_wait = true;  // Waited once above.
    auto e = GetUnlocked(req);
    if (e.ok()) {
      out.push_back(std::move(e).value());
    } else if (!e.status().IsNotFound()) {
      return e.status();
    }
  }
  return out;
}

Result<TxHeader> DatabaseImpl::Set(const std::vector<KeyValue>& kvs, bool no_wait,
                                   const std::vector<Precondition>& preconditions) {
  if (kvs.empty()) return Status::InvalidArgument("illegal arguments");
  WritePlan plan;
  plan.no_wait = no_wait;
  plan.preconditions = &preconditions;
  plan.fill = [&](uint64_t, std::vector<EntrySpec>* entries) {
    return PrepareKeyValues(kvs, entries);
  };
  return Write(plan);
}

bool DatabaseImpl::TrySetAsync(const std::vector<KeyValue>& kvs, bool no_wait, SetCallback done) {
  // The checks of Set's Write, in its order, before anything is queued.
  Status s = CheckOpen();
  if (s.ok() && opts_.replica) {
    s = Status(StatusCode::kUnknown, "database is read-only because it's a replica");
  }
  if (s.ok() && kvs.empty()) s = Status::InvalidArgument("illegal arguments");
  std::vector<EntrySpec> entries;
  if (s.ok()) {
    s = PrepareKeyValues(kvs, &entries);
    if (s.ok()) s = CheckEntries(entries);
  }
  if (!s.ok()) {
    done(s);
    return true;
  }
  if (!gate_.TryLockShared()) return false;
  // The gate is held, shared, until the commit: as in Write.
  store_->CommitAsync(std::move(entries), [this, no_wait, done](Result<TxHeader> h) {
    gate_.UnlockShared();
    if (!h.ok() || no_wait) {
      done(std::move(h));
      return;
    }
    const TxHeader header = *h;
    index_->WhenIndexed(header.id, [header, done](Status st) {
      if (st.ok()) {
        done(header);
      } else {
        done(st);
      }
    });
  });
  return true;
}

Result<TxHeader> DatabaseImpl::Delete(const std::vector<std::string>& keys, uint64_t since_tx,
                                      bool no_wait) {
  IMMUDB_RETURN_IF_ERROR(CheckOpen());
  if (keys.empty()) return Status::InvalidArgument("illegal arguments");
  if (since_tx > store_->CurrentState().tx_id) return Status::NotFound("tx not found");
  WritePlan plan;
  // Existence is checked against every committed tx, not only since_tx.
  plan.exclusive = plan.wait_index = true;
  plan.no_wait = no_wait;
  plan.build = [&](uint64_t) -> Result<std::vector<EntrySpec>> {
    std::vector<EntrySpec> entries;
    std::set<std::string_view> seen;
    for (const std::string& k : keys) {
      if (k.empty()) return Status::InvalidArgument("illegal arguments");
      if (!seen.insert(k).second) continue;  // Deleting twice in one tx is one delete.
      const std::string key = EncodeKey(k);
      IMMUDB_ASSIGN_OR_RETURN(RawVersion raw, LatestRaw(key));
      if (raw.entry.md.deleted) return KeyNotFound();
      if (Expired(raw.entry.md)) return Status::NotFound("key not found: expired entry");
      KVMetadata md;
      md.deleted = true;
      entries.push_back(EntrySpec{key, "", md});
    }
    return entries;
  };
  return Write(plan);
}

Result<std::vector<Entry>> DatabaseImpl::History(const HistoryRequest& req) {
  if (req.key.empty()) return Status::InvalidArgument("illegal arguments: empty key");
  IMMUDB_ASSIGN_OR_RETURN(size_t n, MaxResults(req.limit));
  IMMUDB_RETURN_IF_ERROR(CheckScanSinceTx(req.since_tx));
  IMMUDB_RETURN_IF_ERROR(WaitIndex(req.since_tx));
  auto versions = index_->History(EncodeKey(req.key), req.offset, n, req.desc);
  if (!versions.ok()) return versions.status().IsNotFound() ? KeyNotFound() : versions.status();
  std::vector<Entry> out;
  for (const index::IndexedEntry& ie : *versions) {
    // Versions as stored: a reference is not followed (immudb returns its
    // stored value without the type byte).
    Entry e{ie.tx, req.key, {}, std::nullopt, ie.entry.md, false, ie.revision};
    if (Expired(ie.entry.md)) {
      e.expired = true;  // The value is withheld, the version is not.
    } else {
      IMMUDB_ASSIGN_OR_RETURN(RawVersion raw, Materialize(ie));
      if (!raw.value.empty()) e.value = raw.value.substr(1);
    }
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::vector<Entry>> DatabaseImpl::Scan(const ScanRequest& req) {
  IMMUDB_RETURN_IF_ERROR(CheckScanSinceTx(req.since_tx));
  IMMUDB_ASSIGN_OR_RETURN(size_t n, MaxResults(req.limit));
  IMMUDB_RETURN_IF_ERROR(WaitIndex(req.since_tx));
  index::ScanSpec spec;
  spec.prefix = EncodeKey(req.prefix);
  if (!req.seek_key.empty()) spec.seek_key = EncodeKey(req.seek_key);
  if (!req.end_key.empty()) spec.end_key = EncodeKey(req.end_key);
  spec.inclusive_seek = req.inclusive_seek;
  spec.inclusive_end = req.inclusive_end;
  spec.desc = req.desc;
  std::vector<Entry> out;
  // The limit counts keys read, also references to gone keys.
  IMMUDB_RETURN_IF_ERROR(
      ScanLive(spec, req.offset, n, [&](const index::IndexedEntry& ie) -> Status {
        auto raw = Materialize(ie);
        // Its value was discarded by truncation: left out, as immudb does.
        if (!raw.ok()) return IsValueTruncated(raw.status()) ? Status::OK() : raw.status();
        auto e = Resolve(std::string_view(ie.entry.key).substr(1), *raw, true);
        if (!e.ok()) {
          // A reference to a gone key, or to a truncated value.
          const bool skip = e.status().IsNotFound() || IsValueTruncated(e.status());
          return skip ? Status::OK() : e.status();
        }
        out.push_back(std::move(e).value());
        return Status::OK();
      }));
  return out;
}

Status DatabaseImpl::ScanLive(
    const index::ScanSpec& spec, uint64_t offset, size_t limit,
    const std::function<Status(const index::IndexedEntry&)>& visit) const {
  uint64_t skip = offset;
  size_t read = 0;
  Status err;
  IMMUDB_RETURN_IF_ERROR(index_->Scan(spec, [&](const index::IndexedEntry& ie) {
    if (ie.entry.md.deleted || Expired(ie.entry.md)) return true;
    if (skip > 0) {
      skip--;
      return true;
    }
    read++;
    err = visit(ie);
    return err.ok() && read < limit;
  }));
  return err;
}

Result<uint64_t> DatabaseImpl::Count(const std::string& prefix) {
  IMMUDB_RETURN_IF_ERROR(CheckOpen());
  IMMUDB_RETURN_IF_ERROR(WaitIndex(0));
  return index_->Count(EncodeKey(prefix));
}

Result<uint64_t> DatabaseImpl::CountAll() { return Count(""); }

}  // namespace immudb::database
