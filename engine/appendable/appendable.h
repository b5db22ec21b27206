// Appendable: a segmented, append-only byte stream on a FileSystem, the base
// of every log of the store (tx log, value log, commit log, AHT nodes).
//
// Offsets are global: segment k holds bytes [k*segment_size, (k+1)*segment_size)
// in the file "<dir>/<k as 8 decimal digits>.<ext>". Appends are buffered in
// memory until Flush (or until the buffer fills). The appendable adds no
// framing or checksums: records and their checksums belong to the callers
// (see docs/format/appendable.md).
//
// Thread-safety: one writer at a time (Append, Flush, Sync, Truncate, Close
// are externally serialized). ReadAt is thread-safe and may run concurrently
// with the writer; it may read any byte below Size(), flushed or not.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "immudb/env.h"
#include "immudb/result.h"
#include "immudb/status.h"

namespace immudb {

struct AppendableOptions {
  std::string ext = "dat";               // File name extension, without the dot.
  uint64_t segment_size = 512ull << 20;  // Bytes per segment file.
  size_t write_buffer_size = 1 << 20;    // In-memory buffer before a write(2).
  // When positive, FlushForSync keeps the last segment's file zero-filled
  // (File::Prezero) up to this many bytes past the data (starting at 64 KiB
  // after an open and doubling with each fill), never past the segment's end,
  // refilling once less than half is left, so its syncs seldom grow the file.
  // The zeros are not part of the stream; a store that uses this finds its
  // logical end from its records on open and cuts the rest (Truncate).
  uint64_t prezero_ahead = 0;
  // Passed to each segment file (File::MapAppends): appends into its zeros
  // may go through a shared mapping. For logs synced seldom (unsynced mode).
  bool map_appends = false;
};

// Parses a segment file name "<8+ digits>.<ext>" into the segment number;
// false for any other name (docs/format/appendable.md).
bool ParseSegmentName(const std::string& name, const std::string& ext, uint64_t* index);
// The path "<dir>/<8 digits>.<ext>" of segment `index`.
std::string SegmentPath(const std::string& dir, uint64_t index, const std::string& ext);

class Appendable {
 public:
  virtual ~Appendable() = default;

  // Opens (creating `dir` if needed) the segments in `dir`. Segments must be
  // contiguous from 0 and all but the last exactly segment_size long, else
  // Corruption naming the file. The logical size is the sum of their sizes.
  static Result<std::unique_ptr<Appendable>> Open(FileSystem* fs, const std::string& dir,
                                                  const AppendableOptions& opts);

  // Appends bytes; returns the global offset of the first one. Data may span
  // segments. Not durable until Sync.
  virtual Result<uint64_t> Append(std::string_view data) = 0;
  // Writes buffered bytes to the files (write(2), no fsync).
  virtual Status Flush() = 0;
  // Flush, then fsync every segment written since the last Sync; syncs the
  // directory when a segment was created. A failure leaves the appendable in
  // an error state: every later write or sync fails until it is reopened.
  virtual Status Sync() = 0;
  // Flushes, then registers the fsyncs that make everything flushed so far
  // durable (every segment written since the last Sync or FlushForSync, and
  // the directory when a segment was created) for the next SyncFlushed,
  // without running them: the writer may go on appending while another
  // thread syncs. Returns a ticket: once SyncFlushed has returned a number
  // >= it, those bytes are durable.
  virtual Result<uint64_t> FlushForSync() = 0;
  // Runs every fsync registered by FlushForSync so far and returns the
  // highest ticket they cover. May run concurrently with the writer (one
  // caller at a time). Its failure is not recorded here: the caller must stop
  // writing, as after a failed Sync. Valid until Truncate or Close.
  virtual Result<uint64_t> SyncFlushed() = 0;
  // Reads exactly n bytes at offset; OutOfRange if offset+n > Size().
  virtual Status ReadAt(uint64_t offset, size_t n, char* dst) const = 0;
  // Logical size: everything appended, flushed or not.
  virtual uint64_t Size() const = 0;
  // Cuts the stream to `size` bytes (REQUIRES: size <= Size()), removing
  // whole segments past it, and syncs the cut (files and directory).
  virtual Status Truncate(uint64_t size) = 0;
  // Discards the bytes [offset, offset + n), which must already be written to
  // the files (below the last Flush): they read as zeros afterwards, the
  // stream keeps its size, and whole file-system blocks inside the range are
  // given back (File::PunchHole, segment by segment). Safe to call from any
  // thread while the writer appends past the range. InvalidArgument for a
  // range past the flushed bytes; Unimplemented when the file system cannot
  // punch holes. Not synced.
  virtual Status PunchHole(uint64_t offset, uint64_t n) = 0;
  // Flushes and closes the files (no fsync).
  virtual Status Close() = 0;
};

}  // namespace immudb
