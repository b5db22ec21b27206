// Internal declaration of the Database implementation, split by concern:
// database_open.cc (lifecycle, txs, waiting), database_kv.cc (plain keys,
// reads, scans), database_ops.cc (references, sorted sets, ExecAll),
// database_write.cc (the write path: gate, preconditions, commit),
// database_verifiable.cc (proof replies), encoding.cc (stored forms).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "database/write_gate.h"
#include "immudb/database.h"
#include "index/index.h"

namespace immudb::database {

// A decoded sorted-set stored key (proofs.md §1.1).
struct ZKey {
  std::string set;
  double score = 0;
  std::string key;  // Unprefixed member key.
  uint64_t at_tx = 0;
};
// Corruption when `stored` is not a well-formed sorted-set key.
Result<ZKey> DecodeZAddKey(std::string_view stored);
// Prefix of every stored key of sorted set `set`.
std::string ZSetPrefix(std::string_view set);

// One stored version of a key, with its stored value.
struct RawVersion {
  uint64_t tx = 0;
  uint32_t index = 0;
  uint64_t revision = 0;  // 0 when read by tx.
  TxEntry entry;
  std::string value;  // Stored value (with its prefix byte).
};

// How an open splits the read memory between the index's block cache and
// the value map: `latest_bytes` of latest-version index records, the
// configured cache and value map budgets. Their sum stays the same; the
// cache grows to at most MaxBlockCacheBytes (its share of the value map's
// budget is at most three times its own size).
struct ReadMemory {
  uint64_t block_cache_bytes = 0;
  uint64_t value_map_bytes = 0;
};
uint64_t MaxBlockCacheBytes(uint64_t cache_bytes, uint64_t map_bytes);
ReadMemory SplitReadMemory(uint64_t latest_bytes, uint64_t cache_bytes, uint64_t map_bytes);

class DatabaseImpl : public Database {
 public:
  DatabaseImpl(const DatabaseOptions& opts, std::unique_ptr<Store> store);
  ~DatabaseImpl() override;
  // Opens the index and splits the read memory (SplitReadMemory).
  Status OpenIndex(const std::string& dir);

  using Database::ExecAll;
  using Database::Set;
  using Database::VerifiableSet;

  Result<TxHeader> Set(const std::vector<KeyValue>& kvs, bool no_wait,
                       const std::vector<Precondition>& preconditions) override;
  bool TrySetAsync(const std::vector<KeyValue>& kvs, bool no_wait, SetCallback done) override;
  Result<Entry> Get(const KeyRequest& req) override;
  Result<std::vector<Entry>> GetAll(const std::vector<std::string>& keys,
                                    uint64_t since_tx) override;
  Result<TxHeader> Delete(const std::vector<std::string>& keys, uint64_t since_tx,
                          bool no_wait) override;
  Result<TxHeader> SetReference(const ReferenceRequest& req) override;
  Result<TxHeader> ZAdd(const ZAddRequest& req) override;
  Result<std::vector<ZEntry>> ZScan(const ZScanRequest& req) override;
  Result<TxHeader> ExecAll(const std::vector<Op>& ops, bool no_wait,
                           const std::vector<Precondition>& preconditions) override;
  Result<std::vector<Entry>> History(const HistoryRequest& req) override;
  Result<std::vector<Entry>> Scan(const ScanRequest& req) override;
  Result<uint64_t> Count(const std::string& prefix) override;
  Result<uint64_t> CountAll() override;
  Result<Tx> TxById(uint64_t id) override;
  Result<std::vector<Tx>> TxScan(uint64_t initial_tx, uint64_t limit, bool desc) override;
  Result<std::string> ReadValue(const TxEntry& entry) override;
  Result<std::string> ExportTx(uint64_t id) override;
  Status FlushIndex() override;
  Status CompactIndex() override;
  Result<TxHeader> ReplicateTx(std::string_view exported, bool no_wait) override;
  StoreState CurrentState() override;
  Result<VerifiableTx> VerifiableSet(const std::vector<KeyValue>& kvs, bool no_wait,
                                     uint64_t prove_since_tx,
                                     const std::vector<Precondition>& preconditions) override;
  Result<VerifiableEntry> VerifiableGet(const KeyRequest& req, uint64_t prove_since_tx) override;
  Result<VerifiableTx> VerifiableTxById(uint64_t id, uint64_t prove_since_tx) override;
  Result<VerifiableTx> VerifiableSetReference(const ReferenceRequest& req,
                                              uint64_t prove_since_tx) override;
  Result<VerifiableTx> VerifiableZAdd(const ZAddRequest& req, uint64_t prove_since_tx) override;
  Result<uint64_t> TruncateUpToTx(uint64_t tx_id) override;
  Result<uint64_t> Truncate(uint64_t retention_seconds) override;
  uint64_t TruncatedUpTo() override;
  uint64_t IndexedUpTo() override;
  Status Close() override;

 private:
  // --- database_open.cc ---
  Status CheckOpen() const;
  // InvalidArgument when since_tx is past the last committed tx: Get's long
  // message, or the bare "illegal arguments" of the scans (wire-api.md §6.2).
  Status CheckSinceTx(uint64_t since_tx) const;
  Status CheckScanSinceTx(uint64_t since_tx) const;
  // Waits until the index covers `tx` (0: the last committed tx now).
  Status WaitIndex(uint64_t tx) const;
  bool Expired(const KVMetadata& md) const;
  Result<size_t> MaxResults(uint64_t limit) const;

  // --- database_kv.cc ---
  // The version with its value: the one the index record carries (checked
  // against its hash), else read from the log.
  Result<RawVersion> Materialize(const index::IndexedEntry& ie) const;
  Result<RawVersion> Materialize(index::IndexedEntry&& ie) const;
  // What a VerifiableGet reads with the latest version of a plain key: the tx
  // that holds it and, when `target` (the trusted tx's header, else null) is
  // newer, the dual proof from that tx to it, built with the read
  // (Store::ReadTxAndValueWithProof).
  struct TxRead {
    const TxHeader* target = nullptr;
    std::optional<Tx> tx;
    std::optional<DualProof> proof;
    // Nothing read: tx and proof empty, target kept.
    void Clear() {
      tx.reset();
      proof.reset();
    }
  };
  // The key's latest version. With `read` (else null), when the value is not
  // in the index record, the tx holding it is read with the value in one go
  // (Store::ReadTxAndValue) into read->tx, and the proof as TxRead says.
  Result<RawVersion> LatestRaw(std::string_view stored_key, TxRead* read = nullptr) const;
  Result<RawVersion> AtTxRaw(std::string_view stored_key, uint64_t tx) const;
  // Turns a stored version of `user_key` into an Entry: hides deleted and
  // expired versions (NotFound) and follows a reference when `follow`.
  Result<Entry> Resolve(std::string_view user_key, const RawVersion& raw, bool follow) const;
  // With `read` (else null): for the latest version of a plain entry (no
  // reference, value not in the index record) also the tx that holds it, read
  // with the value (LatestRaw); read->tx and read->proof stay empty otherwise.
  Result<Entry> GetUnlocked(const KeyRequest& req, TxRead* read = nullptr) const;
  // The walk of Scan and ZScan: index entries of `spec` that are neither
  // deleted nor expired, the first `offset` of them passed over, then each
  // given to `visit` until `limit` have been. A non-OK status from `visit`
  // ends the walk and is returned.
  Status ScanLive(const index::ScanSpec& spec, uint64_t offset, size_t limit,
                  const std::function<Status(const index::IndexedEntry&)>& visit) const;

  // --- database_write.cc ---
  // One write. `build` (or `fill`) makes the entries; it runs inside the
  // write gate and gets the id the tx will have (0 unless `exclusive`).
  struct WritePlan {
    // Enter the gate exclusive: no other commit between build and commit.
    bool exclusive = false;
    // Before building, wait until the index covers every committed tx
    // (REQUIRES exclusive; implied by preconditions).
    bool wait_index = false;
    bool no_wait = false;  // Return without waiting for the index afterwards.
    const std::vector<Precondition>* preconditions = nullptr;
    std::function<Result<std::vector<EntrySpec>>(uint64_t next_tx)> build;
    // Instead of `build`: assigns the entries into a vector this thread used
    // for an earlier write, so that their strings' buffers are reused.
    std::function<Status(uint64_t next_tx, std::vector<EntrySpec>* entries)> fill;
  };
  Result<TxHeader> Write(const WritePlan& plan);
  // The store limits and distinct keys, before anything is written.
  Status CheckEntries(const std::vector<EntrySpec>& entries) const;
  // "invalid precondition: ..." for a malformed list.
  Status ValidatePreconditions(const std::vector<Precondition>& pre) const;
  // "precondition failed: <kind>" for the first that does not hold.
  // REQUIRES: the gate held exclusive and the index at the last tx.
  Status CheckPreconditions(const std::vector<Precondition>& pre) const;

  // --- database_ops.cc ---
  struct OpsMode {
    bool exec_all = false;  // ExecAll's rules (bound refs to the new tx).
    bool no_wait = false;   // ExecAll without the index: ops self-contained.
    uint64_t next_tx = 0;   // Id of the tx being built (ExecAll).
  };
  // Validates and encodes ops into store entries. REQUIRES: the index covers
  // the txs the checks must see (references and sorted-set targets).
  Result<std::vector<EntrySpec>> PrepareOps(const std::vector<Op>& ops, const OpsMode& mode) const;
  // PrepareOps of plain key-values only (Set): the same entries and errors,
  // without copying the requests into Ops first, assigned into *entries
  // (resized to kvs.size(); its strings' buffers reused).
  Status PrepareKeyValues(const std::vector<KeyValue>& kvs, std::vector<EntrySpec>* entries) const;
  Result<EntrySpec> PrepareRef(const ReferenceRequest& ref, const OpsMode& mode,
                               bool set_earlier) const;
  Result<EntrySpec> PrepareZAdd(const ZAddRequest& z, const OpsMode& mode, bool set_earlier) const;
  // The referenced key (of a reference or a sorted-set member) must resolve
  // at at_tx (latest when 0) to a plain entry.
  Status CheckReferencedKey(std::string_view user_key, uint64_t at_tx) const;

  // --- database_verifiable.cc ---
  Status CheckProveSinceTx(uint64_t prove_since_tx) const;
  // `trusted`, when not null, is the header of prove_since_tx, already read.
  Result<VerifiableTx> ProveTx(uint64_t tx_id, uint64_t prove_since_tx,
                               const TxHeader* trusted = nullptr) const;
  // The header of the client's trusted tx (timed as its own phase).
  Result<TxHeader> TrustedHeader(uint64_t prove_since_tx) const;
  // ProveTx for a tx already read and checked; `trusted`, when not null, is
  // the header of prove_since_tx, already read.
  Result<VerifiableTx> ProveReadTx(Tx tx, uint64_t prove_since_tx,
                                   const TxHeader* trusted = nullptr) const;

  DatabaseOptions opts_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<index::Index> index_;
  std::atomic<bool> closed_{false};
  mutable WriteGate gate_;
};

}  // namespace immudb::database
