// Database: immudb's key-value semantics over a Store and its key index.
//
// A database is a store directory plus its derived key index (<dir>/index).
// It encodes user keys and values as proofs.md §1.1 (plain entries, logical
// deletes, references, sorted-set members), resolves references one level
// deep, hides deleted and expired entries from reads (History still shows
// them), and builds the replies of the Verifiable* calls (proofs.md §7). It
// speaks engine types only: the server converts them to and from protobuf.
// Error messages are the ones clients look for (wire-api.md §6.2), e.g.
// "key not found". A rejected request writes nothing.
//
// Thread-safety: all methods are thread-safe. Plain writes commit
// concurrently (group commit); a write that depends on what it reads
// (preconditions, references, sorted-set members, deletes, ExecAll) runs alone
// from its check to its commit, against an index that covers every committed
// tx, so what it checked still holds when it commits.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "immudb/options.h"
#include "immudb/proof.h"
#include "immudb/result.h"
#include "immudb/status.h"
#include "immudb/store.h"
#include "immudb/tx.h"

namespace rocksdb {
class Env;
}  // namespace rocksdb

namespace immudb {

struct DatabaseOptions {
  StoreOptions store;
  // Most entries a Scan, ZScan, History or TxScan returns (its limit 0 means this).
  size_t max_result_size = 2500;
  // How long a read or write waits for the index before DeadlineExceeded.
  uint64_t index_wait_timeout_ms = 60000;
  // See index::IndexOptions.
  bool verify_index_on_open = true;
  // Read memory: the key index's block cache. With store.value_map_bytes it
  // is one budget: when the index's latest-version records exceed the cache,
  // the cache takes as much of the value map's budget as they need (a cached
  // index block serves about 45 keys, or about 19 with 100-byte values
  // inline; a mapped MiB of the tx log about 3,600 values), decided on each
  // open.
  size_t index_block_cache_bytes = 128 << 20;
  // Values of at most this many bytes are kept in the index beside their
  // key's latest version, so a Get of such a key reads the index only, not
  // the tx log (index::IndexOptions::inline_value_max_bytes; 0: never). Off
  // by default: with it, a Get no longer reads (and so no longer notices a
  // changed byte of) a small value in the tx log; it returns the index's
  // copy, checked against the entry's hash. docs/format/index.md.
  uint32_t index_inline_value_bytes = 0;
  // The key index's RocksDB memtable budget (index::IndexOptions::
  // write_buffer_bytes): smaller makes more, smaller flushes.
  size_t index_write_buffer_bytes = 32 << 20;
  // The RocksDB environment (and so file system) the key index is kept
  // through; nullptr: RocksDB's default, the local disk. Tests pass one that
  // injects faults (test/testutil/fault_rocks_fs.h). Not owned; must outlive
  // the database.
  rocksdb::Env* index_env = nullptr;
  // A replica takes transactions only through ReplicateTx: every other write
  // fails (kUnknown, "database is read-only because it's a replica").
  bool replica = false;
  // Clock for expiry checks (Unix seconds); nullptr means store.now_unix_seconds
  // or else the system clock.
  std::function<int64_t()> now_unix_seconds;
};

struct KeyValue {
  std::string key;  // User key, non-empty.
  std::string value;
  KVMetadata md;
};

// The reference entry through which a Get reached its value.
struct Reference {
  uint64_t tx = 0;
  std::string key;  // The reference key (unprefixed).
  uint64_t at_tx = 0;
  KVMetadata md;
  uint64_t revision = 0;
};

struct Entry {
  uint64_t tx = 0;
  std::string key;    // Unprefixed; the referenced key when a reference was followed.
  std::string value;  // Unprefixed; empty when expired (History) or deleted.
  std::optional<Reference> referenced_by;
  KVMetadata md;
  bool expired = false;
  uint64_t revision = 0;  // 1-based; 0 when read with at_tx.
};

struct ZEntry {
  std::string set;
  std::string key;
  Entry entry;
  double score = 0;
  uint64_t at_tx = 0;
};

struct KeyRequest {
  std::string key;
  uint64_t at_tx = 0;
  uint64_t since_tx = 0;
  bool no_wait = false;
  int64_t at_revision = 0;
};

// A scan of live plain keys (references resolved). Deleted and expired keys
// are skipped first; `offset` then skips keys; `limit` bounds the keys read,
// including references whose target is gone (those are left out).
struct ScanRequest {
  std::string seek_key;
  std::string end_key;
  std::string prefix;
  bool desc = false;
  uint64_t limit = 0;
  uint64_t since_tx = 0;
  bool inclusive_seek = false;
  bool inclusive_end = false;
  uint64_t offset = 0;
};

struct HistoryRequest {
  std::string key;
  uint64_t offset = 0;
  uint64_t limit = 0;
  bool desc = false;
  uint64_t since_tx = 0;
};

// A condition a write must meet, checked against the latest committed state
// atomically with the write (wire-api.md §3.3): when one fails, nothing is
// written and the call returns FailedPrecondition "precondition failed: <kind>".
struct Precondition {
  enum class Kind {
    kKeyMustExist,           // The key is live: present, not deleted, not expired.
    kKeyMustNotExist,        // The key is absent, deleted or expired.
    kKeyNotModifiedAfterTx,  // No version of the key (of any kind) after tx_id.
  };
  Kind kind = Kind::kKeyMustExist;
  std::string key;     // User key (unprefixed), non-empty.
  uint64_t tx_id = 0;  // kKeyNotModifiedAfterTx only; must be > 0.
};

struct ReferenceRequest {
  std::string key;
  std::string referenced_key;
  uint64_t at_tx = 0;
  // Set without at_tx only inside ExecAll: the reference is then bound to
  // the tx being written.
  bool bound_ref = false;
  bool no_wait = false;
  std::vector<Precondition> preconditions;  // Ignored inside ExecAll.
};

struct ZAddRequest {
  std::string set;
  double score = 0;
  std::string key;
  uint64_t at_tx = 0;
  bool bound_ref = false;  // As ReferenceRequest::bound_ref.
  bool no_wait = false;
};

// A sorted-set scan, in stored-key order (raw IEEE-754 score bits, then
// member key length, key and at_tx). As immudb does: without seek_key the scan
// starts at the min_score bits (ascending) or at the max_score bits (DBL_MAX
// when unset) descending; min/max are inclusive filters; `offset` skips
// members before the filters; and `limit` bounds the members read, including
// those filtered out or whose key is deleted or expired.
struct ZScanRequest {
  std::string set;
  std::string seek_key;
  double seek_score = 0;
  uint64_t seek_at_tx = 0;
  bool inclusive_seek = false;
  uint64_t limit = 0;
  bool desc = false;
  std::optional<double> min_score;
  std::optional<double> max_score;
  uint64_t since_tx = 0;
  uint64_t offset = 0;
};

// One operation of ExecAll.
using Op = std::variant<KeyValue, ZAddRequest, ReferenceRequest>;

struct VerifiableTx {
  Tx tx;  // Header and all entries (no values).
  DualProof dual_proof;
};

struct VerifiableEntry {
  Entry entry;
  VerifiableTx verifiable_tx;
  InclusionProof inclusion_proof;
};

class Database {
 public:
  virtual ~Database() = default;

  // Opens or creates the database in `dir` (the store's directory; the index
  // lives in dir/index and is rebuilt when damaged).
  static Result<std::unique_ptr<Database>> Open(const std::string& dir,
                                                const DatabaseOptions& opts);

  // Commits the KVs as one tx; waits for the index unless `no_wait`.
  // InvalidArgument: no KVs, empty or duplicate keys, over the limits, a
  // malformed precondition ("invalid precondition: ..."). FailedPrecondition
  // "precondition failed: <kind>" when a precondition does not hold. On any
  // error nothing is written.
  virtual Result<TxHeader> Set(const std::vector<KeyValue>& kvs, bool no_wait,
                               const std::vector<Precondition>& preconditions) = 0;
  Result<TxHeader> Set(const std::vector<KeyValue>& kvs, bool no_wait) {
    return Set(kvs, no_wait, {});
  }
  // Set without preconditions that does not block the caller: `done` runs
  // once with what Set would have returned, on the caller's thread when the
  // request is refused at once, else on a thread of the engine (the store's
  // commit thread or the indexer) once the tx is committed and, unless
  // `no_wait`, indexed. `done` should not block. Returns false, without
  // running `done` and without writing, when the write could not start
  // without waiting (a write that needs the database to itself runs or
  // waits); the caller then uses Set.
  using SetCallback = std::function<void(Result<TxHeader>)>;
  virtual bool TrySetAsync(const std::vector<KeyValue>& kvs, bool no_wait, SetCallback done) = 0;
  // NotFound "key not found" (absent or deleted), "key not found: expired
  // entry"; InvalidArgument for a malformed request.
  virtual Result<Entry> Get(const KeyRequest& req) = 0;
  // Latest entries of the keys that are live, in request order, references
  // resolved; absent, deleted, expired and empty keys are left out.
  // InvalidArgument "illegal arguments" when since_tx is past the last tx.
  virtual Result<std::vector<Entry>> GetAll(const std::vector<std::string>& keys,
                                            uint64_t since_tx) = 0;
  // Logical delete of live keys ("key not found" otherwise); NotFound "tx not
  // found" when since_tx is past the last tx.
  virtual Result<TxHeader> Delete(const std::vector<std::string>& keys, uint64_t since_tx,
                                  bool no_wait) = 0;
  virtual Result<TxHeader> SetReference(const ReferenceRequest& req) = 0;
  virtual Result<TxHeader> ZAdd(const ZAddRequest& req) = 0;
  virtual Result<std::vector<ZEntry>> ZScan(const ZScanRequest& req) = 0;
  // All ops in one tx, with the preconditions checked atomically.
  // InvalidArgument "empty set" for none. With `no_wait` the index is not
  // consulted, so references and sorted-set members must be bound (at_tx 0)
  // to keys set earlier in the same ops.
  virtual Result<TxHeader> ExecAll(const std::vector<Op>& ops, bool no_wait,
                                   const std::vector<Precondition>& preconditions) = 0;
  Result<TxHeader> ExecAll(const std::vector<Op>& ops, bool no_wait) {
    return ExecAll(ops, no_wait, {});
  }
  // Versions of one key as stored: references are not followed (a reference
  // version's value is u64(at_tx) || 0x00 || referenced key), deleted
  // versions have an empty value, expired ones an empty value and `expired`.
  virtual Result<std::vector<Entry>> History(const HistoryRequest& req) = 0;
  // History, Scan and ZScan wait until the index covers since_tx (0: the last
  // tx at call time): DeadlineExceeded after index_wait_timeout_ms.
  // InvalidArgument "illegal arguments" when since_tx is past the last tx, and
  // "result size limit exceeded: ..." when limit > max_result_size.
  virtual Result<std::vector<Entry>> Scan(const ScanRequest& req) = 0;
  // Keys under a user-key prefix (deleted and expired ones included, as
  // immudb counts them); waits for the index to cover the last tx.
  virtual Result<uint64_t> Count(const std::string& prefix) = 0;
  virtual Result<uint64_t> CountAll() = 0;

  // NotFound "tx not found" past the last committed tx.
  virtual Result<Tx> TxById(uint64_t id) = 0;
  virtual Result<std::vector<Tx>> TxScan(uint64_t initial_tx, uint64_t limit, bool desc) = 0;
  // Stored value of an entry of TxById/TxScan (checked against its hval).
  virtual Result<std::string> ReadValue(const TxEntry& entry) = 0;
  virtual StoreState CurrentState() = 0;

  // Verifiable variants (proofs.md §7). `prove_since_tx` past the last
  // committed tx is InvalidArgument "illegal state" and writes nothing.
  virtual Result<VerifiableTx> VerifiableSet(const std::vector<KeyValue>& kvs, bool no_wait,
                                             uint64_t prove_since_tx,
                                             const std::vector<Precondition>& preconditions) = 0;
  Result<VerifiableTx> VerifiableSet(const std::vector<KeyValue>& kvs, bool no_wait,
                                     uint64_t prove_since_tx) {
    return VerifiableSet(kvs, no_wait, prove_since_tx, {});
  }
  virtual Result<VerifiableEntry> VerifiableGet(const KeyRequest& req, uint64_t prove_since_tx) = 0;
  virtual Result<VerifiableTx> VerifiableTxById(uint64_t id, uint64_t prove_since_tx) = 0;
  virtual Result<VerifiableTx> VerifiableSetReference(const ReferenceRequest& req,
                                                      uint64_t prove_since_tx) = 0;
  virtual Result<VerifiableTx> VerifiableZAdd(const ZAddRequest& req, uint64_t prove_since_tx) = 0;

  // Truncation (docs/format/truncation.md): the values of old txs are
  // discarded, their headers, entries and proofs stay. A read that needs a
  // discarded value (Get, GetAll, History, VerifiableGet, ReadValue, ExportTx,
  // a reference to it) fails with FailedPrecondition, IsValueTruncated();
  // Scan and ZScan leave such keys out, as immudb does.
  //
  // TruncateUpToTx discards the values of every tx <= tx_id (Store::
  // TruncateValues: never moves back, InvalidArgument past the last tx).
  // Returns the truncation point afterwards.
  virtual Result<uint64_t> TruncateUpToTx(uint64_t tx_id) = 0;
  // As immudb's truncator: the cut tx is the last one committed at or before
  // 00:00 UTC of the day `retention_seconds` ago, and the values of the txs
  // before it are discarded (the cut tx keeps its own). FailedPrecondition
  // "retention period has not been reached" when no tx is that old.
  virtual Result<uint64_t> Truncate(uint64_t retention_seconds) = 0;
  virtual uint64_t TruncatedUpTo() = 0;

  // Index progress (for tests and metrics).
  virtual uint64_t IndexedUpTo() = 0;
  // The key index to its files (FlushIndex), and merged (CompactIndex).
  virtual Status FlushIndex() = 0;
  virtual Status CompactIndex() = 0;

  // Replication and exact-chain restores. ExportTx: tx `id` in immudb's
  // exported form (docs/format/exported-tx.md), every value checked.
  virtual Result<std::string> ExportTx(uint64_t id) = 0;
  // Commits an exported transaction with its original header if it chains
  // onto the last one (FailedPrecondition otherwise, InvalidArgument for
  // malformed bytes; nothing written either way); then waits for the index
  // unless no_wait.
  virtual Result<TxHeader> ReplicateTx(std::string_view exported, bool no_wait) = 0;
  // Stops the indexer and closes the store. Further calls fail.
  virtual Status Close() = 0;
};

// Stored forms (proofs.md §1.1), shared with clients and tests.
std::string EncodeKey(std::string_view user_key);
std::string EncodeValue(std::string_view user_value);
// The same into *out, replacing its contents (its buffer reused when large enough).
void EncodeKeyTo(std::string_view user_key, std::string* out);
void EncodeValueTo(std::string_view user_value, std::string* out);
std::string EncodeReferenceValue(std::string_view referenced_user_key, uint64_t at_tx);
std::string EncodeZAddKey(std::string_view set, double score, std::string_view user_key,
                          uint64_t at_tx);

}  // namespace immudb
