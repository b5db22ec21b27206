// Value types of the client API: trusted states and key-value entries as the
// server reports them. Plain data, thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "immudb/hash.h"
#include "immudb/tx.h"

namespace immudb::client {

// A database state: the last transaction id and its Alh (proofs.md §6.1).
// `signature` holds the server's DER ECDSA signature over the state when the
// server signs states (empty otherwise).
struct State {
  std::string db;
  uint64_t tx_id = 0;
  Hash tx_hash = EmptyHash();
  std::string signature;

  bool operator==(const State&) const = default;
};

// The reference an entry was reached through (Entry.referencedBy).
struct Reference {
  uint64_t tx = 0;
  std::string key;
  uint64_t at_tx = 0;
  uint64_t revision = 0;
  KVMetadata md;
};

// A key-value entry; keys and values are the user's bytes (no prefixes).
struct Entry {
  uint64_t tx = 0;
  std::string key;
  std::string value;
  uint64_t revision = 0;
  KVMetadata md;
  bool expired = false;
  std::optional<Reference> referenced_by;
};

// A member of a sorted set (ZEntry): `entry` is the entry `key` resolved to
// (at tx `at_tx` when the member is bound to one, else the latest).
struct ZEntry {
  std::string set;
  std::string key;
  double score = 0;
  uint64_t at_tx = 0;
  Entry entry;
};

// Options of a read (KeyRequest): at most one of at_tx / at_revision.
struct ReadOptions {
  uint64_t at_tx = 0;
  uint64_t since_tx = 0;
  int64_t at_revision = 0;
  bool no_wait = false;
};

// Options of ZScan (ZScanRequest): members of `set` ordered by score, then key,
// then tx; scores outside [min_score, max_score] are skipped when given.
struct ZScanOptions {
  uint64_t limit = 0;  // 0: the server's default limit.
  bool desc = false;
  std::optional<double> min_score;
  std::optional<double> max_score;
  uint64_t since_tx = 0;
  bool no_wait = true;
};

}  // namespace immudb::client
