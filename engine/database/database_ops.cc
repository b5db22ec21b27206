// Writes that read existing keys first: references, sorted-set members and
// ExecAll; and ZScan.
#include <algorithm>

#include "database/database_impl.h"

namespace immudb::database {

namespace {

Status IllegalArguments() { return Status::InvalidArgument("illegal arguments"); }

}  // namespace

Status DatabaseImpl::CheckReferencedKey(std::string_view user_key, uint64_t at_tx,
                                        const std::vector<std::string>& batch_plain_keys) const {
  // A plain key written by the same batch exists once the batch commits.
  if (at_tx == 0 && std::find(batch_plain_keys.begin(), batch_plain_keys.end(), user_key) !=
                        batch_plain_keys.end()) {
    return Status::OK();
  }
  const std::string key = EncodeKey(user_key);
  IMMUDB_ASSIGN_OR_RETURN(RawVersion raw, at_tx > 0 ? AtTxRaw(key, at_tx) : LatestRaw(key));
  if (raw.entry.md.deleted || raw.value.empty()) return Status::NotFound("key not found");
  if (Expired(raw.entry.md)) return Status::NotFound("key not found: expired entry");
  if (raw.value[0] != 0x00) {
    return Status::InvalidArgument("referenced key cannot be a reference");
  }
  return Status::OK();
}

Result<std::vector<EntrySpec>> DatabaseImpl::PrepareOps(const std::vector<Op>& ops) const {
  std::vector<std::string> plain_keys;
  for (const Op& op : ops) {
    if (const auto* kv = std::get_if<KeyValue>(&op)) plain_keys.push_back(kv->key);
  }
  std::vector<EntrySpec> entries;
  entries.reserve(ops.size());
  for (const Op& op : ops) {
    if (const auto* kv = std::get_if<KeyValue>(&op)) {
      if (kv->key.empty()) return IllegalArguments();
      entries.push_back(EntrySpec{EncodeKey(kv->key), EncodeValue(kv->value), kv->md});
    } else if (const auto* ref = std::get_if<ReferenceRequest>(&op)) {
      if (ref->key.empty() || ref->referenced_key.empty() || ref->bound_ref != (ref->at_tx > 0)) {
        return IllegalArguments();
      }
      // Only a missing, deleted or reference key may become a reference.
      auto existing = LatestRaw(EncodeKey(ref->key));
      if (existing.ok()) {
        if (!existing->entry.md.deleted && !existing->value.empty() && existing->value[0] == 0x00) {
          return Status::InvalidArgument("final key cannot be converted into a reference");
        }
      } else if (!existing.status().IsNotFound()) {
        return existing.status();
      }
      IMMUDB_RETURN_IF_ERROR(CheckReferencedKey(ref->referenced_key, ref->at_tx, plain_keys));
      entries.push_back(EntrySpec{
          EncodeKey(ref->key), EncodeReferenceValue(ref->referenced_key, ref->at_tx), {}});
    } else {
      const auto& z = std::get<ZAddRequest>(op);
      if (z.set.empty() || z.key.empty() || z.bound_ref != (z.at_tx > 0)) {
        return IllegalArguments();
      }
      IMMUDB_RETURN_IF_ERROR(CheckReferencedKey(z.key, z.at_tx, plain_keys));
      entries.push_back(EntrySpec{EncodeZAddKey(z.set, z.score, z.key, z.at_tx), "", {}});
    }
  }
  return entries;
}

Result<TxHeader> DatabaseImpl::SetReference(const ReferenceRequest& req) {
  IMMUDB_RETURN_IF_ERROR(CheckOpen());
  IMMUDB_RETURN_IF_ERROR(WaitIndex(0));
  IMMUDB_ASSIGN_OR_RETURN(std::vector<EntrySpec> entries, PrepareOps({Op(req)}));
  return CommitEntries(std::move(entries), req.no_wait);
}

Result<TxHeader> DatabaseImpl::ZAdd(const ZAddRequest& req) {
  IMMUDB_RETURN_IF_ERROR(CheckOpen());
  IMMUDB_RETURN_IF_ERROR(WaitIndex(0));
  IMMUDB_ASSIGN_OR_RETURN(std::vector<EntrySpec> entries, PrepareOps({Op(req)}));
  return CommitEntries(std::move(entries), req.no_wait);
}

Result<TxHeader> DatabaseImpl::ExecAll(const std::vector<Op>& ops, bool no_wait) {
  IMMUDB_RETURN_IF_ERROR(CheckOpen());
  if (ops.empty()) return Status::InvalidArgument("empty set");
  if (!no_wait) IMMUDB_RETURN_IF_ERROR(WaitIndex(0));
  IMMUDB_ASSIGN_OR_RETURN(std::vector<EntrySpec> entries, PrepareOps(ops));
  return CommitEntries(std::move(entries), no_wait);
}

Result<std::vector<ZEntry>> DatabaseImpl::ZScan(const ZScanRequest& req) {
  if (req.set.empty()) return IllegalArguments();
  IMMUDB_RETURN_IF_ERROR(CheckSinceTx(req.since_tx));
  IMMUDB_ASSIGN_OR_RETURN(size_t n, MaxResults(req.limit));
  IMMUDB_RETURN_IF_ERROR(WaitIndex(req.since_tx));
  index::ScanSpec spec;
  spec.prefix = ZSetPrefix(req.set);
  if (!req.seek_key.empty()) {
    spec.seek_key = EncodeZAddKey(req.set, req.seek_score, req.seek_key, req.seek_at_tx);
  }
  spec.inclusive_seek = req.inclusive_seek;
  spec.desc = req.desc;
  std::vector<ZEntry> out;
  uint64_t skip = req.offset;
  Status err;
  IMMUDB_RETURN_IF_ERROR(index_->Scan(spec, [&](const index::IndexedEntry& ie) {
    auto z = DecodeZAddKey(ie.entry.key);
    if (!z.ok()) {
      err = z.status();
      return false;
    }
    if ((req.min_score && z->score < *req.min_score) ||
        (req.max_score && z->score > *req.max_score)) {
      return true;
    }
    const std::string member = EncodeKey(z->key);
    auto raw = z->at_tx > 0 ? AtTxRaw(member, z->at_tx) : LatestRaw(member);
    auto e = raw.ok() ? Resolve(z->key, *raw, true) : Result<Entry>(raw.status());
    if (!e.ok()) {
      if (e.status().IsNotFound()) return true;  // Member key deleted or expired.
      err = e.status();
      return false;
    }
    if (skip > 0) {
      skip--;
      return true;
    }
    out.push_back(ZEntry{z->set, z->key, std::move(e).value(), z->score, z->at_tx});
    return out.size() < n;
  }));
  IMMUDB_RETURN_IF_ERROR(err);
  return out;
}

}  // namespace immudb::database
