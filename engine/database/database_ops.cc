// Writes that read existing keys first: references, sorted-set members and
// ExecAll; and ZScan.
#include <bit>
#include <limits>
#include <set>
#include <tuple>

#include "database/database_impl.h"
#include "util/coding.h"

namespace immudb::database {

namespace {

Status IllegalArguments() { return Status::InvalidArgument("illegal arguments"); }

constexpr char kOnlyBoundRefs[] =
    "can only set references to keys added within same transaction, please use bound "
    "references with AtTx set to 0";

// ExecAll with no_wait cannot read the index: its ops must refer to keys of
// the same batch.
Status NotSelfContained(std::string_view why) {
  return Status::InvalidArgument("no wait operation must be self-contained: illegal arguments: " +
                                 std::string(why));
}

}  // namespace

Status DatabaseImpl::CheckReferencedKey(std::string_view user_key, uint64_t at_tx) const {
  const std::string key = EncodeKey(user_key);
  IMMUDB_ASSIGN_OR_RETURN(RawVersion raw, at_tx > 0 ? AtTxRaw(key, at_tx) : LatestRaw(key));
  IMMUDB_ASSIGN_OR_RETURN(Entry e, Resolve(user_key, raw, true));
  if (e.referenced_by) return Status::InvalidArgument("referenced key cannot be a reference");
  return Status::OK();
}

Result<EntrySpec> DatabaseImpl::PrepareRef(const ReferenceRequest& ref, const OpsMode& mode,
                                           bool set_earlier) const {
  if (ref.key.empty() || ref.referenced_key.empty()) return IllegalArguments();
  // ExecAll also takes a bound reference without at_tx: bound to its own tx.
  if (mode.exec_all ? (ref.at_tx > 0 && !ref.bound_ref) : ref.bound_ref != (ref.at_tx > 0)) {
    return IllegalArguments();
  }
  if (mode.no_wait) {
    if (ref.at_tx != 0 || !ref.bound_ref) return NotSelfContained(kOnlyBoundRefs);
    if (!set_earlier) {
      return NotSelfContained(
          "can not create a reference to a key that was not set in the same transaction");
    }
  } else {
    // Only a missing, deleted or reference key may become a reference. A
    // single SetReference looks at the key as of its at_tx, as immudb does.
    const std::string key = EncodeKey(ref.key);
    const uint64_t key_tx = mode.exec_all ? 0 : ref.at_tx;
    auto raw = key_tx > 0 ? AtTxRaw(key, key_tx) : LatestRaw(key);
    Result<Entry> existing = raw.ok() ? Resolve(ref.key, *raw, true) : Result<Entry>(raw.status());
    if (existing.ok() && !existing->referenced_by) {
      return Status::InvalidArgument("final key cannot be converted into a reference");
    }
    if (!existing.ok() && existing.status().message() != "key not found") {
      return existing.status();
    }
    if (!set_earlier || ref.at_tx > 0) {
      IMMUDB_RETURN_IF_ERROR(CheckReferencedKey(ref.referenced_key, ref.at_tx));
    }
  }
  const uint64_t at_tx = ref.bound_ref && ref.at_tx == 0 ? mode.next_tx : ref.at_tx;
  return EntrySpec{EncodeKey(ref.key), EncodeReferenceValue(ref.referenced_key, at_tx), {}};
}

Result<EntrySpec> DatabaseImpl::PrepareZAdd(const ZAddRequest& z, const OpsMode& mode,
                                            bool set_earlier) const {
  if (z.set.empty() || z.key.empty()) return IllegalArguments();
  if (mode.exec_all ? (z.at_tx > 0 && !z.bound_ref) : z.bound_ref != (z.at_tx > 0)) {
    return IllegalArguments();
  }
  if (mode.no_wait) {
    if (z.at_tx != 0 || !z.bound_ref) return NotSelfContained(kOnlyBoundRefs);
    if (!set_earlier) {
      return NotSelfContained(
          "can not create a reference into a set for a key that was not set in the same "
          "transaction");
    }
  } else if (!set_earlier || z.at_tx > 0) {
    IMMUDB_RETURN_IF_ERROR(CheckReferencedKey(z.key, z.at_tx));
  }
  const uint64_t at_tx = z.bound_ref && z.at_tx == 0 ? mode.next_tx : z.at_tx;
  return EntrySpec{EncodeZAddKey(z.set, z.score, z.key, at_tx), "", {}};
}

Result<std::vector<EntrySpec>> DatabaseImpl::PrepareOps(const std::vector<Op>& ops,
                                                        const OpsMode& mode) const {
  // Plain keys set by earlier ops of the batch (they exist once it commits),
  // and the sorted-set members already added.
  std::set<std::string_view> plain_keys;
  std::set<std::tuple<std::string_view, std::string_view, uint64_t>> members;
  std::vector<EntrySpec> entries;
  entries.reserve(ops.size());
  for (const Op& op : ops) {
    if (const auto* kv = std::get_if<KeyValue>(&op)) {
      if (kv->key.empty()) return IllegalArguments();
      plain_keys.insert(kv->key);
      entries.push_back(EntrySpec{EncodeKey(kv->key), EncodeValue(kv->value), kv->md});
    } else if (const auto* ref = std::get_if<ReferenceRequest>(&op)) {
      IMMUDB_ASSIGN_OR_RETURN(EntrySpec e,
                              PrepareRef(*ref, mode, plain_keys.count(ref->referenced_key) > 0));
      entries.push_back(std::move(e));
    } else {
      const auto& z = std::get<ZAddRequest>(op);
      if (mode.exec_all && !members.emplace(z.set, z.key, z.at_tx).second) {
        return Status::InvalidArgument(
            "duplicated index inside zAdd insertions are not supported in single batch "
            "transaction");
      }
      IMMUDB_ASSIGN_OR_RETURN(EntrySpec e, PrepareZAdd(z, mode, plain_keys.count(z.key) > 0));
      entries.push_back(std::move(e));
    }
  }
  return entries;
}

Status DatabaseImpl::PrepareKeyValues(const std::vector<KeyValue>& kvs,
                                      std::vector<EntrySpec>* entries) const {
  for (const KeyValue& kv : kvs) {
    if (kv.key.empty()) return IllegalArguments();
  }
  // Assigned into the strings already there: no allocation for those whose
  // buffers are large enough.
  entries->resize(kvs.size());
  for (size_t i = 0; i < kvs.size(); i++) {
    EntrySpec& e = (*entries)[i];
    EncodeKeyTo(kvs[i].key, &e.key);
    EncodeValueTo(kvs[i].value, &e.value);
    e.md = kvs[i].md;
  }
  return Status::OK();
}

Result<TxHeader> DatabaseImpl::SetReference(const ReferenceRequest& req) {
  WritePlan plan;
  plan.exclusive = plan.wait_index = true;
  plan.no_wait = req.no_wait;
  plan.preconditions = &req.preconditions;
  plan.build = [&](uint64_t) { return PrepareOps({Op(req)}, OpsMode{}); };
  return Write(plan);
}

Result<TxHeader> DatabaseImpl::ZAdd(const ZAddRequest& req) {
  WritePlan plan;
  plan.exclusive = plan.wait_index = true;
  plan.no_wait = req.no_wait;
  plan.build = [&](uint64_t) { return PrepareOps({Op(req)}, OpsMode{}); };
  return Write(plan);
}

Result<TxHeader> DatabaseImpl::ExecAll(const std::vector<Op>& ops, bool no_wait,
                                       const std::vector<Precondition>& preconditions) {
  IMMUDB_RETURN_IF_ERROR(CheckOpen());
  if (ops.empty()) return Status::InvalidArgument("empty set");
  WritePlan plan;
  plan.exclusive = true;  // The tx id must be known for bound references.
  plan.wait_index = !no_wait;
  plan.no_wait = no_wait;
  plan.preconditions = &preconditions;
  plan.build = [&](uint64_t next_tx) { return PrepareOps(ops, OpsMode{true, no_wait, next_tx}); };
  return Write(plan);
}

Result<std::vector<ZEntry>> DatabaseImpl::ZScan(const ZScanRequest& req) {
  if (req.set.empty()) return IllegalArguments();
  IMMUDB_ASSIGN_OR_RETURN(size_t n, MaxResults(req.limit));
  IMMUDB_RETURN_IF_ERROR(CheckScanSinceTx(req.since_tx));
  IMMUDB_RETURN_IF_ERROR(WaitIndex(req.since_tx));
  index::ScanSpec spec;
  spec.prefix = ZSetPrefix(req.set);
  if (!req.seek_key.empty()) {
    spec.seek_key = EncodeZAddKey(req.set, req.seek_score, req.seek_key, req.seek_at_tx);
  } else {
    // Start at a score: the min score ascending, the max score descending.
    // Raw IEEE-754 bits order, so this is a byte position, not a numeric one.
    double start = 0;
    if (req.desc) {
      start = req.max_score.value_or(std::numeric_limits<double>::max());
    } else if (req.min_score) {
      start = *req.min_score;
    }
    spec.seek_key = spec.prefix;
    if (req.desc || req.min_score) {
      AppendU64BE(&spec.seek_key, std::bit_cast<uint64_t>(start));
    } else {
      spec.seek_key.append(8, '\0');
    }
  }
  spec.inclusive_seek = req.inclusive_seek;
  spec.desc = req.desc;
  std::vector<ZEntry> out;
  // The limit counts members read, filtered or not.
  IMMUDB_RETURN_IF_ERROR(
      ScanLive(spec, req.offset, n, [&](const index::IndexedEntry& ie) -> Status {
        IMMUDB_ASSIGN_OR_RETURN(ZKey z, DecodeZAddKey(ie.entry.key));
        if ((req.min_score && z.score < *req.min_score) ||
            (req.max_score && z.score > *req.max_score)) {
          return Status::OK();
        }
        const std::string member = EncodeKey(z.key);
        auto raw = z.at_tx > 0 ? AtTxRaw(member, z.at_tx) : LatestRaw(member);
        // A member key that has become a reference is not followed: that is an
        // error, as in immudb.
        auto e = raw.ok() ? Resolve(z.key, *raw, false) : Result<Entry>(raw.status());
        if (!e.ok()) {
          // Member deleted or expired, or its value discarded by truncation.
          const bool skip = e.status().IsNotFound() || IsValueTruncated(e.status());
          return skip ? Status::OK() : e.status();
        }
        out.push_back(ZEntry{z.set, z.key, std::move(e).value(), z.score, z.at_tx});
        return Status::OK();
      }));
  return out;
}

}  // namespace immudb::database
