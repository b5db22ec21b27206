// SegmentReader: a read-only view of the segment files of one appendable
// (docs/format/appendable.md), for tools that must not change a store. Unlike
// Appendable::Open it creates no directory and cuts nothing, and it does not
// need the segment size: it takes it from the files (the size of segment 0
// when there are several). Sequential reads go through a read-ahead window.
//
// Thread-compatible: one user at a time (ReadAt moves the window).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "immudb/env.h"
#include "immudb/result.h"
#include "immudb/status.h"

namespace immudb::store {

class SegmentReader {
 public:
  // Opens the files "<root>/<sub>/<digits>.<ext>". A missing directory is an
  // empty stream. IOError when the directory cannot be listed or a segment
  // cannot be opened.
  static Result<std::unique_ptr<SegmentReader>> Open(FileSystem* fs, const std::string& root,
                                                     const std::string& sub,
                                                     const std::string& ext);

  // Checks the layout: segments numbered 0..k without gaps, all but the last
  // of one size, the last no larger. Returns false on a problem and sets
  // *file (relative to root) and *what.
  bool CheckLayout(std::string* file, std::string* what) const;

  // Total bytes of all segments.
  uint64_t size() const { return size_; }

  // Reads exactly n bytes at global offset `offset`. REQUIRES:
  // offset + n <= size(). IOError if a file cannot be read or shrank.
  Status ReadAt(uint64_t offset, size_t n, char* dst);

  // The segment file holding global offset `off` (relative to root, e.g.
  // "val/00000000.val") and the offset inside it. An offset at or past the
  // end maps to the last segment (or the first one's name when empty).
  std::string FileOf(uint64_t off) const;
  uint64_t FileOffset(uint64_t off) const;

 private:
  struct Segment {
    uint64_t index = 0;
    std::string name;
    uint64_t size = 0;
    std::unique_ptr<File> file;
  };

  SegmentReader(std::string sub, std::string ext) : sub_(std::move(sub)), ext_(std::move(ext)) {}
  size_t SegmentOf(uint64_t off) const;
  Status ReadDirect(uint64_t offset, size_t n, char* dst) const;

  static constexpr size_t kWindowSize = 1 << 20;

  const std::string sub_;
  const std::string ext_;
  std::vector<Segment> segments_;  // Sorted by index.
  uint64_t segment_size_ = 0;      // Size of segment 0 when there are several.
  uint64_t size_ = 0;
  std::vector<char> window_;  // Bytes [window_off_, window_off_ + window_.size()).
  uint64_t window_off_ = 0;
};

}  // namespace immudb::store
