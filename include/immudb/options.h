// Options of the embedded store. Defaults follow immudb's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "immudb/env.h"

namespace immudb {

struct StoreOptions {
  // File system; nullptr means FileSystem::Default(). Not owned; must outlive
  // the store.
  FileSystem* fs = nullptr;

  // Synced mode (default): a commit is acknowledged only after everything it
  // wrote is durable (fsync). Unsynced: acknowledged after the OS has the data.
  bool synced = true;
  // Unsynced mode only: a commit batch also syncs (as in synced mode) when
  // this long has passed since the last sync, bounding what a power loss can
  // take. 0 disables periodic syncs.
  uint32_t unsynced_sync_interval_ms = 20;
  // Synced mode only: each committer appends its own tx, and a round of
  // fsyncs covers everything appended before it began (true); or a leader
  // writes the queued txs as a batch and syncs it (false, the pipeline of
  // unsynced mode). Appending in the committers' threads keeps the leader's
  // write off the path between two rounds.
  bool committers_append = true;

  size_t max_key_len = 1024;
  size_t max_value_len = 32 << 20;
  size_t max_tx_entries = 1024;

  // Most transactions one group commit makes durable with one fsync round.
  size_t max_group_commit_txs = 4096;

  // Segment sizes of the logs.
  uint64_t tx_log_segment_size = 512ull << 20;
  uint64_t value_log_segment_size = 512ull << 20;  // Format-1 stores only (values in val/).
  uint64_t commit_log_segment_size = 512ull << 20;
  uint64_t aht_segment_size = 512ull << 20;
  // Memory for the digests of the AHT's upper levels, so that a proof reads
  // only the records near its leaves: levels k >= 4 and up take about
  // 64 / 2^k bytes per tx (k = 4 at 10M txs: 45 MB allocated), and k rises
  // as the store grows to stay under this bound. 0 disables it.
  uint64_t aht_block_cache_bytes = 64ull << 20;
  // Value reads (ReadValue) through read-only mappings of the log that holds
  // the values, in 16 MiB chunks mapped on first use, up to this many bytes;
  // values outside them are read with pread(2). Mapped pages count in the
  // process's resident memory. 0 reads every value with pread(2).
  uint64_t value_map_bytes = 192ull << 20;

  // Clock for header timestamps (Unix seconds); nullptr means the system clock.
  std::function<int64_t()> now_unix_seconds;
};

}  // namespace immudb
