// Offline integrity verification of a store directory (docs/format/store.md,
// "Offline verification"): every commit record, tx record, value and AHT
// record is re-read and re-hashed, and the Alh chain and the AHT are
// recomputed independently of the store's own code paths.
//
// The verifier never writes: it does not open the store (which would repair
// a torn tail), takes no lock and creates nothing; it reads the segment files
// through the FileSystem. Memory use does not grow with the number of
// transactions (the largest buffer is one tx record). Thread-compatible: one
// call owns everything it uses.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "immudb/env.h"
#include "immudb/hash.h"
#include "immudb/result.h"

namespace immudb::store {

struct VerifyDirOptions {
  // File system; nullptr means FileSystem::Default(). Not owned.
  FileSystem* fs = nullptr;
};

// The first check that failed.
struct VerifyMismatch {
  uint64_t tx_id = 0;   // 0 when the damage is not tied to one transaction.
  std::string kind;     // "commit log", "tx log", "value log", "AHT" or "store".
  std::string file;     // Path relative to the store directory, e.g. "val/00000000.val".
  uint64_t offset = 0;  // Offset inside `file`.
  std::string what;     // What failed, e.g. "value does not match its hash".
  // The damage lies after the newest commit record's durable_upto, where a
  // crash can leave a torn tail that Store::Open would cut back.
  bool maybe_torn_tail = false;

  // "tx 17: value log val/00000000.val offset 1234: value does not match its hash".
  std::string ToString() const;
};

struct VerifyReport {
  uint64_t tx_count = 0;       // Transactions that passed every check.
  uint64_t bytes_checked = 0;  // Bytes of the four logs read and checked.
  Hash last_alh{};             // Alh of tx tx_count (H("") when 0).
  // Values of txs up to this one were discarded by truncation (TRUNCATED):
  // their layout is checked, their bytes cannot be. 0: none.
  uint64_t truncated_upto = 0;
  std::optional<VerifyMismatch> mismatch;  // Set when verification failed.

  bool ok() const { return !mismatch.has_value(); }
};

// Verifies the store in `dir`, from tx 1 to the last commit record, and stops
// at the first mismatch, which the report names (verification failures are
// not a Status error). Checks, per tx: the commit record's checksum, id and
// offsets; the tx record's checksum and decoding; that the tx record and the
// values are where the previous tx ended; every value against its hash; the
// entry digests against Eh; inner hash and Alh against the commit record; the
// PrevAlh chain from H(""); BlTxID = ID - 1 and BlRoot against an AHT root
// recomputed from the Alh values; every digest and checksum of the AHT file's
// record for the tx. Then that no log holds bytes past the last tx.
// Returns an error Status only when the files cannot be read (IOError) or
// `dir` does not exist (NotFound).
Result<VerifyReport> VerifyStoreDir(const std::string& dir, const VerifyDirOptions& opts);

// The `verify` command of immudb-verify and immuadmin: runs VerifyStoreDir on
// `dir` and prints the outcome (the first mismatch, or "verified N
// transactions, X bytes: OK" and the last Alh) to stdout, an error that
// stopped the check to stderr prefixed with `prog`. Returns the exit code:
// 0 when everything verified, 1 otherwise.
int RunVerifyCommand(const std::string& dir, const char* prog);

}  // namespace immudb::store
