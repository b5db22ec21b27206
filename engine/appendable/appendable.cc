// Segmented append-only stream. See appendable.h and docs/format/appendable.md.
//
// Concurrency scheme (one writer, many readers):
//  - size_ (atomic) is the logical size; the writer publishes it with release
//    after the bytes are in place, so a reader that loads it with acquire may
//    read any byte below it.
//  - flushed_ is the number of bytes already handed to the segment files; the
//    bytes [flushed_, size_) sit at buf_[0, size_ - flushed_). flushed_ and
//    segments_ change only under an exclusive mu_, and only the writer changes
//    them, so the writer reads them without locking.
//  - Append in the common case is a memcpy past the published end of buf_,
//    which no reader looks at, followed by the store to size_: no lock.
//  - Flush writes buf_ to the files without the lock (readers may keep reading
//    buf_ meanwhile) and then advances flushed_ under the exclusive lock, which
//    releases those buffer bytes for reuse.
//  - ReadAt holds the shared lock only to copy buffered bytes or pick the
//    segment File*, then preads without it.
//  - Segment files dropped by Truncate are parked in retired_ until Close, so
//    a File* obtained by a reader is never freed under it.
#include "appendable/appendable.h"

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <limits>
#include <mutex>
#include <shared_mutex>
#include <vector>

#include "util/op_phases.h"

namespace immudb {

std::string SegmentPath(const std::string& dir, uint64_t index, const std::string& ext) {
  char name[32];
  std::snprintf(name, sizeof(name), "%08" PRIu64 ".", index);
  return dir + "/" + name + ext;
}

// Parses "<digits>.<ext>" into the segment number; false for any other name.
bool ParseSegmentName(const std::string& name, const std::string& ext, uint64_t* index) {
  const size_t dot = name.find('.');
  if (dot == std::string::npos || dot < 8 || dot > 19) return false;
  if (name.compare(dot + 1, std::string::npos, ext) != 0) return false;
  uint64_t v = 0;
  for (size_t i = 0; i < dot; i++) {
    if (name[i] < '0' || name[i] > '9') return false;
    v = v * 10 + static_cast<uint64_t>(name[i] - '0');
  }
  *index = v;
  return true;
}

namespace {

constexpr uint64_t kNoneDirty = std::numeric_limits<uint64_t>::max();

class AppendableImpl final : public Appendable {
 public:
  AppendableImpl(FileSystem* fs, std::string dir, const AppendableOptions& opts)
      : fs_(fs),
        dir_(std::move(dir)),
        opts_(opts),
        buf_(opts.write_buffer_size > 0 ? new char[opts.write_buffer_size] : nullptr) {}

  ~AppendableImpl() override {
    if (!closed_) static_cast<void>(Close());
  }

  Status Load();

  Result<uint64_t> Append(std::string_view data) override;
  Status Flush() override;
  Status Sync() override;
  Result<uint64_t> FlushForSync() override;
  Result<uint64_t> SyncFlushed() override;
  Status ReadAt(uint64_t offset, size_t n, char* dst) const override;
  uint64_t Size() const override { return size_.load(std::memory_order_acquire); }
  Status Truncate(uint64_t size) override;
  Status PunchHole(uint64_t offset, uint64_t n) override;
  Status Close() override;

 private:
  std::string SegmentPath(uint64_t index) const {
    return immudb::SegmentPath(dir_, index, opts_.ext);
  }

  // Checks that the appendable can still be written.
  Status CheckWritable() const {
    if (closed_) return Status::FailedPrecondition("appendable " + dir_ + " is closed");
    return error_;
  }
  // Records the first write/sync failure; every later write returns it.
  Status SetError(Status s) {
    if (error_.ok()) error_ = s.WithPrefix("appendable " + dir_ + " failed earlier");
    return s;
  }

  // Writes data at global offset flushed_ into the segment files, creating
  // segments as needed. Does not advance flushed_.
  Status WriteToFiles(const char* p, size_t n);
  Status FlushBuffer();
  // fsyncs the segments in [dirty_from_, end) and marks them clean.
  Status SyncSegmentsBelow(uint64_t end);

  FileSystem* const fs_;
  const std::string dir_;
  const AppendableOptions opts_;

  mutable std::shared_mutex mu_;
  std::vector<std::unique_ptr<File>> segments_;  // Changed under exclusive mu_.
  uint64_t flushed_ = 0;                         // Changed under exclusive mu_.
  std::atomic<uint64_t> size_{0};
  const std::unique_ptr<char[]> buf_;  // Holds bytes [flushed_, size_).

  // Writer-only state.
  std::vector<std::unique_ptr<File>> retired_;
  uint64_t dirty_from_ = kNoneDirty;  // Lowest segment written since last Sync.
  bool dir_dirty_ = false;            // A segment was created or removed since last Sync.
  uint64_t zeroed_to_ = 0;            // Last segment: offset within it its zeros reach.
  // How far ahead the next zero-fill reaches: 64 KiB after open, doubling up
  // to prezero_ahead, so the first commits after an open stay cheap.
  uint64_t prezero_step_ = 64 << 10;
  uint64_t last_sync_flushed_ = 0;  // flushed_ at the previous FlushForSync.

  // Registered by FlushForSync, run by SyncFlushed (which may run on another
  // thread than the writer): guarded by pend_mu_.
  std::mutex pend_mu_;
  std::vector<std::pair<File*, std::string>> pend_files_;
  bool pend_dir_ = false;
  File* pend_zero_file_ = nullptr;
  uint64_t pend_zero_to_ = 0;
  uint64_t pend_ticket_ = 0;
  Status error_;
  bool closed_ = false;
};

Status AppendableImpl::Load() {
  IMMUDB_ASSIGN_OR_RETURN(std::vector<std::string> names, fs_->GetChildren(dir_));
  std::vector<uint64_t> indexes;
  for (const std::string& name : names) {
    uint64_t index;
    if (ParseSegmentName(name, opts_.ext, &index)) indexes.push_back(index);
  }
  std::sort(indexes.begin(), indexes.end());
  uint64_t total = 0;
  for (size_t i = 0; i < indexes.size(); i++) {
    if (indexes[i] != i) {
      return Status::Corruption("appendable " + dir_ + ": segment " + SegmentPath(i) +
                                " is missing (found " + SegmentPath(indexes[i]) + ")");
    }
    const std::string path = SegmentPath(i);
    IMMUDB_ASSIGN_OR_RETURN(std::unique_ptr<File> f, fs_->OpenFile(path, /*create=*/false));
    f->MapAppends(opts_.map_appends);
    const uint64_t size = f->Size();
    const bool last = i + 1 == indexes.size();
    if (size > opts_.segment_size || (!last && size != opts_.segment_size)) {
      return Status::Corruption("appendable segment " + path + " has size " + std::to_string(size) +
                                ", expected " + (last ? "at most " : "exactly ") +
                                std::to_string(opts_.segment_size));
    }
    total += size;
    segments_.push_back(std::move(f));
  }
  flushed_ = total;
  size_.store(total, std::memory_order_release);
  return Status::OK();
}

Result<uint64_t> AppendableImpl::Append(std::string_view data) {
  IMMUDB_RETURN_IF_ERROR(CheckWritable());
  const uint64_t offset = size_.load(std::memory_order_relaxed);
  const size_t cap = opts_.write_buffer_size;
  size_t used = static_cast<size_t>(offset - flushed_);
  if (data.size() > cap - used) {
    IMMUDB_RETURN_IF_ERROR(FlushBuffer());
    used = 0;
  }
  if (data.size() <= cap) {
    // Common case: the bytes past size_ are invisible to readers, so no lock.
    std::memcpy(buf_.get() + used, data.data(), data.size());
    size_.store(offset + data.size(), std::memory_order_release);
    return offset;
  }
  // Larger than the whole buffer: copying it there would only add a memcpy.
  Status s = WriteToFiles(data.data(), data.size());
  if (!s.ok()) return SetError(std::move(s));
  {
    std::unique_lock<std::shared_mutex> l(mu_);
    flushed_ += data.size();
    size_.store(flushed_, std::memory_order_release);
  }
  return offset;
}

Status AppendableImpl::WriteToFiles(const char* p, size_t n) {
  uint64_t pos = flushed_;
  while (n > 0) {
    const uint64_t index = pos / opts_.segment_size;
    const uint64_t within = pos % opts_.segment_size;
    if (index == segments_.size()) {
      // Sealing the full segment before starting the next means a crash can
      // only tear the last segment: a short segment followed by another one
      // is then real corruption, never an unlucky write-back order.
      IMMUDB_RETURN_IF_ERROR(SyncSegmentsBelow(index));
      const std::string path = SegmentPath(index);
      IMMUDB_ASSIGN_OR_RETURN(std::unique_ptr<File> f, fs_->OpenFile(path, /*create=*/true));
      f->MapAppends(opts_.map_appends);
      if (f->Size() != 0) {
        // A leftover from a crash between creating the file and an earlier
        // Truncate; its bytes are past the logical end and meaningless.
        IMMUDB_RETURN_IF_ERROR(f->Truncate(0));
      }
      dir_dirty_ = true;
      zeroed_to_ = 0;
      std::unique_lock<std::shared_mutex> l(mu_);
      segments_.push_back(std::move(f));
    }
    const size_t chunk = static_cast<size_t>(std::min<uint64_t>(n, opts_.segment_size - within));
    dirty_from_ = std::min(dirty_from_, index);
    Status s = segments_[index]->Append(std::string_view(p, chunk));
    if (!s.ok()) {
      return s.WithPrefix("appendable write of " + std::to_string(chunk) + " bytes at offset " +
                          std::to_string(pos));
    }
    p += chunk;
    pos += chunk;
    n -= chunk;
  }
  return Status::OK();
}

Status AppendableImpl::SyncSegmentsBelow(uint64_t end) {
  if (dirty_from_ == kNoneDirty || dirty_from_ >= end) return Status::OK();
  for (uint64_t i = dirty_from_; i < end; i++) {
    IMMUDB_RETURN_IF_ERROR(segments_[i]->Sync().WithPrefix("appendable sync of " + SegmentPath(i)));
  }
  dirty_from_ = end < segments_.size() ? end : kNoneDirty;
  return Status::OK();
}

Status AppendableImpl::FlushBuffer() {
  const size_t used = static_cast<size_t>(size_.load(std::memory_order_relaxed) - flushed_);
  if (used == 0) return Status::OK();
  Status s = WriteToFiles(buf_.get(), used);
  if (!s.ok()) return SetError(std::move(s));
  std::unique_lock<std::shared_mutex> l(mu_);
  flushed_ += used;
  return Status::OK();
}

Status AppendableImpl::Flush() {
  IMMUDB_RETURN_IF_ERROR(CheckWritable());
  return FlushBuffer();
}

Status AppendableImpl::Sync() {
  IMMUDB_RETURN_IF_ERROR(CheckWritable());
  IMMUDB_RETURN_IF_ERROR(FlushBuffer());
  // What FlushForSync registered and no SyncFlushed ran yet.
  Status s = SyncFlushed().status();
  if (!s.ok()) return SetError(std::move(s));
  s = SyncSegmentsBelow(segments_.size());
  if (!s.ok()) return SetError(std::move(s));
  if (dir_dirty_) {
    s = fs_->SyncDir(dir_);
    if (!s.ok()) return SetError(std::move(s));
    dir_dirty_ = false;
  }
  return Status::OK();
}

Result<uint64_t> AppendableImpl::FlushForSync() {
  IMMUDB_RETURN_IF_ERROR(CheckWritable());
  IMMUDB_RETURN_IF_ERROR(FlushBuffer());
  // Zero-fill ahead of the data in the same sync, when it runs low.
  File* zero_file = nullptr;
  uint64_t zero_to = 0;
  // Rounds that write more than half the reserve would outrun the zeros
  // anyway (their sync grows the file): zero-filling would only double the
  // writes, so large rounds skip it.
  const uint64_t round_bytes = flushed_ - std::min(flushed_, last_sync_flushed_);
  last_sync_flushed_ = flushed_;
  if (opts_.prezero_ahead > 0 && !segments_.empty() && round_bytes <= opts_.prezero_ahead / 2 &&
      flushed_ < segments_.size() * opts_.segment_size) {
    const uint64_t within = flushed_ - (segments_.size() - 1) * opts_.segment_size;
    const uint64_t step = std::min(prezero_step_, opts_.prezero_ahead);
    if (zeroed_to_ < within + step / 2) {
      zero_to = std::min(opts_.segment_size, within + step);
      prezero_step_ = std::min(prezero_step_ * 2, opts_.prezero_ahead);
      if (zero_to > zeroed_to_) {
        zero_file = segments_.back().get();
        zeroed_to_ = zero_to;
      }
    }
  }
  std::lock_guard<std::mutex> l(pend_mu_);
  auto add = [this](File* f, uint64_t index) {
    for (const auto& p : pend_files_) {
      if (p.first == f) return;
    }
    pend_files_.emplace_back(f, SegmentPath(index));
  };
  if (dirty_from_ != kNoneDirty) {
    for (uint64_t i = dirty_from_; i < segments_.size(); i++) add(segments_[i].get(), i);
  }
  if (zero_file != nullptr) {
    add(zero_file, segments_.size() - 1);
    pend_zero_file_ = zero_file;
    pend_zero_to_ = zero_to;
  }
  // Later writes mark their segment dirty again, for the next sync.
  dirty_from_ = kNoneDirty;
  pend_dir_ |= dir_dirty_;
  dir_dirty_ = false;
  return ++pend_ticket_;
}

Result<uint64_t> AppendableImpl::SyncFlushed() {
  std::vector<std::pair<File*, std::string>> files;
  bool dir;
  File* zero_file;
  uint64_t zero_to, ticket;
  {
    std::lock_guard<std::mutex> l(pend_mu_);
    files.swap(pend_files_);
    dir = pend_dir_;
    pend_dir_ = false;
    zero_file = pend_zero_file_;
    zero_to = pend_zero_to_;
    pend_zero_file_ = nullptr;
    ticket = pend_ticket_;
  }
  if (zero_file != nullptr) IMMUDB_RETURN_IF_ERROR(zero_file->Prezero(zero_to));
  for (const auto& [f, path] : files) {
    IMMUDB_RETURN_IF_ERROR(f->Sync().WithPrefix("appendable sync of " + path));
  }
  if (dir) IMMUDB_RETURN_IF_ERROR(fs_->SyncDir(dir_));
  return ticket;
}

Status AppendableImpl::ReadAt(uint64_t offset, size_t n, char* dst) const {
  const uint64_t size = size_.load(std::memory_order_acquire);
  if (offset > size || n > size - offset) {
    return Status::OutOfRange("appendable " + dir_ + ": read of " + std::to_string(n) +
                              " bytes at offset " + std::to_string(offset) + " past size " +
                              std::to_string(size));
  }
  const uint64_t end = offset + n;
  while (offset < end) {
    const File* f;
    uint64_t chunk, index;
    {
      std::shared_lock<std::shared_mutex> l(mu_);
      if (offset >= flushed_) {
        std::memcpy(dst, buf_.get() + (offset - flushed_), static_cast<size_t>(end - offset));
        return Status::OK();
      }
      index = offset / opts_.segment_size;
      f = segments_[index].get();
      chunk = std::min({end, flushed_, (index + 1) * opts_.segment_size}) - offset;
    }
    size_t got = 0;
    const uint64_t within = offset - index * opts_.segment_size;
    CountOpLogRead();
    IMMUDB_RETURN_IF_ERROR(f->ReadAt(within, static_cast<size_t>(chunk), dst, &got));
    if (got != chunk) {
      return Status::IOError("appendable short read of " + SegmentPath(index) + " at offset " +
                             std::to_string(within) + ": wanted " + std::to_string(chunk) +
                             " bytes, got " + std::to_string(got));
    }
    offset += chunk;
    dst += chunk;
  }
  return Status::OK();
}

Status AppendableImpl::Truncate(uint64_t size) {
  IMMUDB_RETURN_IF_ERROR(CheckWritable());
  if (size > Size()) {
    return Status::InvalidArgument("appendable " + dir_ + ": truncate to " + std::to_string(size) +
                                   " beyond size " + std::to_string(Size()));
  }
  IMMUDB_RETURN_IF_ERROR(FlushBuffer());
  {
    // Registered syncs may name segments about to go: run them now.
    Status s = SyncFlushed().status();
    if (!s.ok()) return SetError(std::move(s));
  }
  // Segments [0, keep) remain; a cut exactly at a boundary keeps the last full.
  const uint64_t keep = (size + opts_.segment_size - 1) / opts_.segment_size;
  {
    // Readers must not see the removed range while files shrink under them.
    std::unique_lock<std::shared_mutex> l(mu_);
    flushed_ = size;
    size_.store(size, std::memory_order_release);
  }
  // Highest first, so a crash midway still leaves a contiguous prefix.
  while (segments_.size() > keep) {
    const uint64_t index = segments_.size() - 1;
    Status s = segments_.back()->Close();
    if (s.ok()) s = fs_->RemoveFile(SegmentPath(index));
    if (!s.ok()) return SetError(s.WithPrefix("appendable truncate"));
    std::unique_lock<std::shared_mutex> l(mu_);
    retired_.push_back(std::move(segments_.back()));
    segments_.pop_back();
    dir_dirty_ = true;
  }
  zeroed_to_ = 0;
  if (keep > 0) {
    const uint64_t last = keep - 1;
    const uint64_t last_size = size - last * opts_.segment_size;
    if (segments_[last]->Size() != last_size) {
      Status s = segments_[last]->Truncate(last_size);
      if (!s.ok()) return SetError(s.WithPrefix("appendable truncate of " + SegmentPath(last)));
      dirty_from_ = std::min(dirty_from_, last);
    }
  }
  if (dirty_from_ != kNoneDirty && dirty_from_ >= segments_.size()) dirty_from_ = kNoneDirty;
  return Sync();
}

Status AppendableImpl::PunchHole(uint64_t offset, uint64_t n) {
  const uint64_t end = offset + n;
  if (end < offset) return Status::InvalidArgument("appendable " + dir_ + ": bad hole range");
  while (offset < end) {
    File* f;
    uint64_t chunk, index;
    {
      // As ReadAt: the File* stays valid (dropped segments are parked in
      // retired_), so the punch itself runs without the lock.
      std::shared_lock<std::shared_mutex> l(mu_);
      if (end > flushed_) {
        return Status::InvalidArgument("appendable " + dir_ + ": hole up to offset " +
                                       std::to_string(end) + " reaches past the flushed bytes (" +
                                       std::to_string(flushed_) + ")");
      }
      index = offset / opts_.segment_size;
      f = segments_[index].get();
      chunk = std::min(end, (index + 1) * opts_.segment_size) - offset;
    }
    IMMUDB_RETURN_IF_ERROR(f->PunchHole(offset - index * opts_.segment_size, chunk)
                               .WithPrefix("appendable hole in " + SegmentPath(index)));
    offset += chunk;
  }
  return Status::OK();
}

Status AppendableImpl::Close() {
  if (closed_) return Status::OK();
  Status result;
  if (error_.ok()) result = FlushBuffer();
  for (auto& f : segments_) {
    Status s = f->Close();
    if (result.ok()) result = std::move(s);
  }
  closed_ = true;
  return result;
}

}  // namespace

Result<std::unique_ptr<Appendable>> Appendable::Open(FileSystem* fs, const std::string& dir,
                                                     const AppendableOptions& opts) {
  if (opts.segment_size == 0) {
    return Status::InvalidArgument("appendable " + dir + ": segment_size must be positive");
  }
  if (opts.ext.empty() || opts.ext.find('/') != std::string::npos) {
    return Status::InvalidArgument("appendable " + dir + ": bad extension '" + opts.ext + "'");
  }
  if (!fs->FileExists(dir)) {
    IMMUDB_RETURN_IF_ERROR(fs->CreateDir(dir));
    // The new directory's own entry must survive a crash, or its segments
    // would vanish with it even after they were synced.
    const size_t slash = dir.find_last_of('/');
    const std::string parent =
        slash == std::string::npos ? "." : (slash == 0 ? "/" : dir.substr(0, slash));
    IMMUDB_RETURN_IF_ERROR(fs->SyncDir(parent));
  }
  auto a = std::make_unique<AppendableImpl>(fs, dir, opts);
  IMMUDB_RETURN_IF_ERROR(a->Load());
  return std::unique_ptr<Appendable>(std::move(a));
}

}  // namespace immudb
