#include "store/segment_reader.h"

#include <algorithm>
#include <cstring>

#include "appendable/appendable.h"

namespace immudb::store {

namespace {

std::string SegmentName(uint64_t index, const std::string& ext) {
  std::string digits = std::to_string(index);
  if (digits.size() < 8) digits.insert(0, 8 - digits.size(), '0');
  return digits + "." + ext;
}

}  // namespace

Result<std::unique_ptr<SegmentReader>> SegmentReader::Open(FileSystem* fs, const std::string& root,
                                                           const std::string& sub,
                                                           const std::string& ext) {
  std::unique_ptr<SegmentReader> r(new SegmentReader(sub, ext));
  const std::string dir = root + "/" + sub;
  if (!fs->FileExists(dir)) return r;
  IMMUDB_ASSIGN_OR_RETURN(std::vector<std::string> names, fs->GetChildren(dir));
  for (const std::string& name : names) {
    Segment s;
    if (!ParseSegmentName(name, ext, &s.index)) continue;
    s.name = name;
    r->segments_.push_back(std::move(s));
  }
  std::sort(r->segments_.begin(), r->segments_.end(),
            [](const Segment& a, const Segment& b) { return a.index < b.index; });
  for (Segment& s : r->segments_) {
    IMMUDB_ASSIGN_OR_RETURN(s.file, fs->OpenFile(dir + "/" + s.name, /*create=*/false));
    s.size = s.file->Size();
    r->size_ += s.size;
  }
  if (r->segments_.size() > 1) r->segment_size_ = r->segments_[0].size;
  return r;
}

bool SegmentReader::CheckLayout(std::string* file, std::string* what) const {
  for (size_t i = 0; i < segments_.size(); i++) {
    const Segment& s = segments_[i];
    if (s.index != i) {
      *file = sub_ + "/" + SegmentName(i, ext_);
      *what = "segment is missing (next is " + s.name + ")";
      return false;
    }
    // A different spelling of the same number (more leading zeros) is not
    // the file the appendable opens.
    if (s.name != SegmentName(s.index, ext_)) {
      *file = sub_ + "/" + s.name;
      *what = "unexpected segment file name";
      return false;
    }
    if (segments_.size() == 1) break;
    const bool last = i + 1 == segments_.size();
    if (segment_size_ == 0 || s.size > segment_size_ || (!last && s.size != segment_size_)) {
      *file = sub_ + "/" + s.name;
      *what = "segment has " + std::to_string(s.size) + " bytes, expected " +
              (last ? "at most " : "exactly ") + std::to_string(segment_size_) +
              " (the size of segment 0)";
      return false;
    }
  }
  return true;
}

size_t SegmentReader::SegmentOf(uint64_t off) const {
  uint64_t start = 0;
  for (size_t i = 0; i < segments_.size(); i++) {
    if (off < start + segments_[i].size) return i;
    start += segments_[i].size;
  }
  return segments_.empty() ? 0 : segments_.size() - 1;
}

std::string SegmentReader::FileOf(uint64_t off) const {
  if (segments_.empty()) return sub_ + "/" + SegmentName(0, ext_);
  return sub_ + "/" + segments_[SegmentOf(off)].name;
}

uint64_t SegmentReader::FileOffset(uint64_t off) const {
  const size_t seg = SegmentOf(off);
  uint64_t start = 0;
  for (size_t i = 0; i < seg; i++) start += segments_[i].size;
  return off - start;
}

Status SegmentReader::ReadDirect(uint64_t offset, size_t n, char* dst) const {
  size_t seg = SegmentOf(offset);
  uint64_t in_seg = FileOffset(offset);
  while (n > 0) {
    if (seg >= segments_.size()) return Status::IOError("read past the end of " + sub_);
    const Segment& s = segments_[seg];
    const size_t want = static_cast<size_t>(std::min<uint64_t>(n, s.size - in_seg));
    size_t got = 0;
    IMMUDB_RETURN_IF_ERROR(s.file->ReadAt(in_seg, want, dst, &got));
    if (got != want) {
      return Status::IOError(sub_ + "/" + s.name + " shrank while being read");
    }
    dst += want;
    n -= want;
    seg++;
    in_seg = 0;
  }
  return Status::OK();
}

Status SegmentReader::ReadAt(uint64_t offset, size_t n, char* dst) {
  if (offset > size_ || n > size_ - offset) {
    return Status::OutOfRange("read past the end of " + sub_);
  }
  if (n >= kWindowSize) return ReadDirect(offset, n, dst);
  if (offset < window_off_ || offset + n > window_off_ + window_.size()) {
    const size_t len = static_cast<size_t>(std::min<uint64_t>(kWindowSize, size_ - offset));
    window_.resize(len);
    window_off_ = offset;
    Status s = ReadDirect(offset, len, window_.data());
    if (!s.ok()) {
      window_.clear();
      return s;
    }
  }
  if (n > 0) std::memcpy(dst, window_.data() + (offset - window_off_), n);
  return Status::OK();
}

}  // namespace immudb::store
