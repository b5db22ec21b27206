// The .tar.gz archives of immuadmin's offline backup and restore
// (docs/immuadmin.md, "Offline backup and restore"): POSIX ustar members,
// regular files and directories only, in one gzip stream (zlib).
//
// Writing: TarGzWriter appends members to an open file descriptor.
// Reading: ReadTarGz checks the whole archive as it streams it and hands each
// member to a visitor; it stops at the first fault with InvalidArgument (a
// member refused by the path or type rules) or Corruption (a damaged or
// truncated archive). Every rule is enforced while reading, so a caller that
// reads twice (check, then extract) applies the same checks both times.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "immudb/result.h"
#include "immudb/status.h"

namespace immudb::admin::archive {

// Largest member accepted (the ustar size field: 11 octal digits).
inline constexpr uint64_t kMaxMemberSize = (uint64_t{1} << 33) - 1;

// InvalidArgument unless `path` is relative and normalised: not empty, no
// leading '/', and no empty, "." or ".." component. `path` has no trailing
// '/' (a directory member's slash is removed before the check).
Status CheckMemberPath(const std::string& path);

class TarGzWriter {
 public:
  // Writes to `fd` (not owned; the caller fsyncs and closes it).
  static Result<std::unique_ptr<TarGzWriter>> Open(int fd);
  ~TarGzWriter();
  TarGzWriter(const TarGzWriter&) = delete;
  TarGzWriter& operator=(const TarGzWriter&) = delete;

  // A directory member `path` (stored as "path/").
  Status AddDirectory(const std::string& path, uint32_t mode, int64_t mtime);
  // A regular-file member `path` with the contents of the file `source`,
  // which must be a regular file of `size` bytes (it is opened without
  // following a symlink; a file that changed size is an error).
  Status AddFile(const std::string& path, const std::string& source, uint64_t size, uint32_t mode,
                 int64_t mtime);
  // The end-of-archive marker (two zero blocks) and the gzip trailer.
  Status Finish();

 private:
  struct Impl;
  explicit TarGzWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// What ReadTarGz reports. Paths are relative, normalised and without a
// trailing '/'; the first component is the archive's top-level directory.
class ArchiveVisitor {
 public:
  virtual ~ArchiveVisitor() = default;
  virtual Status Directory(const std::string& path, uint32_t mode) = 0;
  virtual Status FileBegin(const std::string& path, uint32_t mode, uint64_t size) = 0;
  virtual Status FileData(const char* data, size_t n) = 0;
  virtual Status FileEnd() = 0;
};

// Reads the .tar.gz `archive` from start to end and checks:
//   gzip: the header, the deflate data, the CRC-32 and length trailer, no
//         bytes after the stream, no early end (truncation);
//   tar:  every header's checksum and ustar magic, octal fields, that every
//         member is a regular file or a directory (links, devices, fifos and
//         pax/GNU extension headers are refused), that every path passes
//         CheckMemberPath, that all members lie under one top-level
//         directory, that no path appears twice or under a file member, that
//         directories carry no data, that each file's data is complete, and
//         that the archive ends with two zero blocks followed only by zeros.
// `visitor` (may be nullptr: check only) sees the members in order; an error
// it returns stops the read. `top` (optional) receives the top-level
// directory's name.
Status ReadTarGz(const std::string& archive, ArchiveVisitor* visitor, std::string* top = nullptr);

}  // namespace immudb::admin::archive
