#include "cmd/immuadmin/tar_gz.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <vector>

namespace immudb::admin::archive {
namespace {

constexpr size_t kBlock = 512;
constexpr size_t kBufSize = 1 << 16;

// ustar header fields: offset and width.
constexpr size_t kNameOff = 0, kNameLen = 100;
constexpr size_t kModeOff = 100, kUidOff = 108, kGidOff = 116, kIdLen = 8;
constexpr size_t kSizeOff = 124, kMtimeOff = 136, kNumLen = 12;
constexpr size_t kSumOff = 148, kSumLen = 8;
constexpr size_t kTypeOff = 156;
constexpr size_t kMagicOff = 257;
constexpr size_t kPrefixOff = 345, kPrefixLen = 155;

std::string Errno(const std::string& what, const std::string& path, int err) {
  return what + " " + path + ": " + std::strerror(err);
}

Status WriteAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return Status::IOError(Errno("write", "archive", errno));
    }
    data += w;
    n -= static_cast<size_t>(w);
  }
  return Status::OK();
}

// `value` as `width - 1` octal digits and a NUL.
bool PutOctal(char* field, size_t width, uint64_t value) {
  const size_t digits = width - 1;
  if (digits < 22 && value >> (3 * digits) != 0) return false;
  for (size_t i = digits; i-- > 0;) {
    field[i] = static_cast<char>('0' + (value & 7));
    value >>= 3;
  }
  field[digits] = '\0';
  return true;
}

uint32_t HeaderSum(const char* block) {
  uint32_t sum = 0;
  for (size_t i = 0; i < kBlock; ++i) {
    const bool in_sum = i >= kSumOff && i < kSumOff + kSumLen;
    sum += in_sum ? ' ' : static_cast<unsigned char>(block[i]);
  }
  return sum;
}

// Splits `name` into the ustar name (<= 100) and prefix (<= 155) fields.
bool SplitName(const std::string& name, std::string* prefix, std::string* rest) {
  if (name.size() <= kNameLen) {
    prefix->clear();
    *rest = name;
    return true;
  }
  for (size_t slash = name.find('/'); slash != std::string::npos;
       slash = name.find('/', slash + 1)) {
    if (slash > kPrefixLen) break;
    const size_t tail = name.size() - slash - 1;
    if (tail > 0 && tail <= kNameLen) {
      *prefix = name.substr(0, slash);
      *rest = name.substr(slash + 1);
      return true;
    }
  }
  return false;
}

}  // namespace

Status CheckMemberPath(const std::string& path) {
  if (path.empty()) return Status::InvalidArgument("member with an empty path");
  if (path.front() == '/') {
    return Status::InvalidArgument("member '" + path + "': absolute path");
  }
  size_t start = 0;
  while (true) {
    const size_t slash = path.find('/', start);
    const std::string part =
        path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (part == "..") {
      return Status::InvalidArgument("member '" + path + "': path with a '..' component");
    }
    if (part.empty() || part == ".") {
      return Status::InvalidArgument("member '" + path +
                                     "': path not normalised (empty or '.' component)");
    }
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return Status::OK();
}

// ---- writer ----

struct TarGzWriter::Impl {
  int fd = -1;
  z_stream z{};
  bool z_open = false;
  std::vector<char> out = std::vector<char>(kBufSize);

  Status Deflate(const char* data, size_t n, int flush) {
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data));
    z.avail_in = static_cast<uInt>(n);
    while (true) {
      z.next_out = reinterpret_cast<Bytef*>(out.data());
      z.avail_out = static_cast<uInt>(out.size());
      const int rc = deflate(&z, flush);
      if (rc == Z_STREAM_ERROR) return Status::Internal("gzip: deflate failed");
      IMMUDB_RETURN_IF_ERROR(WriteAll(fd, out.data(), out.size() - z.avail_out));
      if (flush == Z_FINISH ? rc == Z_STREAM_END : z.avail_in == 0 && z.avail_out != 0) break;
    }
    return Status::OK();
  }

  Status Header(const std::string& name, char type, uint32_t mode, uint64_t size, int64_t mtime) {
    if (name.size() > kNameLen + 1 + kPrefixLen) {
      return Status::InvalidArgument("path too long for the archive: " + name);
    }
    std::string prefix, rest;
    if (!SplitName(name, &prefix, &rest)) {
      return Status::InvalidArgument("path cannot be stored in a ustar header: " + name);
    }
    char h[kBlock] = {};
    std::memcpy(h + kNameOff, rest.data(), rest.size());
    std::memcpy(h + kPrefixOff, prefix.data(), prefix.size());
    PutOctal(h + kModeOff, kIdLen, mode & 07777);
    PutOctal(h + kUidOff, kIdLen, 0);
    PutOctal(h + kGidOff, kIdLen, 0);
    if (!PutOctal(h + kSizeOff, kNumLen, size)) {
      return Status::InvalidArgument("file too large for the archive: " + name);
    }
    PutOctal(h + kMtimeOff, kNumLen, mtime < 0 ? 0 : static_cast<uint64_t>(mtime));
    h[kTypeOff] = type;
    std::memcpy(h + kMagicOff,
                "ustar\0"
                "00",
                8);
    PutOctal(h + kSumOff, 7, HeaderSum(h));
    h[kSumOff + 7] = ' ';
    return Deflate(h, kBlock, Z_NO_FLUSH);
  }

  ~Impl() {
    if (z_open) deflateEnd(&z);
  }
};

TarGzWriter::TarGzWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TarGzWriter::~TarGzWriter() = default;

Result<std::unique_ptr<TarGzWriter>> TarGzWriter::Open(int fd) {
  auto impl = std::make_unique<Impl>();
  impl->fd = fd;
  // 15 window bits + 16: a gzip header and trailer around the deflate data.
  if (deflateInit2(&impl->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return Status::Internal("gzip: cannot initialise zlib");
  }
  impl->z_open = true;
  return std::unique_ptr<TarGzWriter>(new TarGzWriter(std::move(impl)));
}

Status TarGzWriter::AddDirectory(const std::string& path, uint32_t mode, int64_t mtime) {
  IMMUDB_RETURN_IF_ERROR(CheckMemberPath(path));
  return impl_->Header(path + "/", '5', mode, 0, mtime);
}

Status TarGzWriter::AddFile(const std::string& path, const std::string& source, uint64_t size,
                            uint32_t mode, int64_t mtime) {
  IMMUDB_RETURN_IF_ERROR(CheckMemberPath(path));
  const int in = ::open(source.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (in < 0) return Status::IOError(Errno("open", source, errno));
  struct stat st;
  if (::fstat(in, &st) != 0 || !S_ISREG(st.st_mode) || static_cast<uint64_t>(st.st_size) != size) {
    ::close(in);
    return Status::Aborted(source + " changed while it was being archived");
  }
  Status s = impl_->Header(path, '0', mode, size, mtime);
  std::vector<char> buf(kBufSize);
  uint64_t left = size;
  while (s.ok() && left > 0) {
    const ssize_t r = ::read(in, buf.data(), std::min<uint64_t>(left, buf.size()));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      s = Status::IOError(Errno("read", source, errno));
    } else if (r == 0) {
      s = Status::Aborted(source + " shrank while it was being archived");
    } else {
      s = impl_->Deflate(buf.data(), static_cast<size_t>(r), Z_NO_FLUSH);
      left -= static_cast<uint64_t>(r);
    }
  }
  ::close(in);
  IMMUDB_RETURN_IF_ERROR(s);
  const size_t pad = (kBlock - size % kBlock) % kBlock;
  const char zeros[kBlock] = {};
  return impl_->Deflate(zeros, pad, Z_NO_FLUSH);
}

Status TarGzWriter::Finish() {
  const char zeros[2 * kBlock] = {};
  IMMUDB_RETURN_IF_ERROR(impl_->Deflate(zeros, sizeof(zeros), Z_NO_FLUSH));
  return impl_->Deflate(nullptr, 0, Z_FINISH);
}

// ---- reader ----

namespace {

// The decompressed bytes of a gzip file; Read fills the whole buffer unless
// the stream ended (then its CRC-32 and length were checked by zlib).
class GzipSource {
 public:
  ~GzipSource() {
    if (z_open_) inflateEnd(&z_);
    if (fd_ >= 0) ::close(fd_);
  }

  Status Open(const std::string& path) {
    path_ = path;
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) return Status::IOError(Errno("open", path, errno));
    if (inflateInit2(&z_, 15 + 16) != Z_OK) return Status::Internal("gzip: cannot initialise zlib");
    z_open_ = true;
    return Status::OK();
  }

  // Reads up to `n` bytes; fewer only at the end of the gzip stream.
  Result<size_t> Read(char* out, size_t n) {
    size_t got = 0;
    while (got < n && !ended_) {
      if (z_.avail_in == 0) {
        const ssize_t r = ::read(fd_, in_.data(), in_.size());
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return Status::IOError(Errno("read", path_, errno));
        if (r == 0) return Status::Corruption("truncated archive: the gzip stream ends early");
        z_.next_in = reinterpret_cast<Bytef*>(in_.data());
        z_.avail_in = static_cast<uInt>(r);
      }
      z_.next_out = reinterpret_cast<Bytef*>(out + got);
      z_.avail_out = static_cast<uInt>(n - got);
      const int rc = inflate(&z_, Z_NO_FLUSH);
      got = n - z_.avail_out;
      if (rc == Z_STREAM_END) {
        ended_ = true;
        IMMUDB_RETURN_IF_ERROR(CheckNothingAfter());
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        return Status::Corruption(std::string("damaged archive: gzip: ") +
                                  (z_.msg != nullptr ? z_.msg : "inflate failed"));
      }
    }
    return got;
  }

  // Reads the rest of the stream, which must hold only zero bytes.
  Status DrainZeros() {
    std::vector<char> buf(kBufSize);
    while (!ended_) {
      IMMUDB_ASSIGN_OR_RETURN(size_t n, Read(buf.data(), buf.size()));
      if (std::any_of(buf.begin(), buf.begin() + static_cast<ptrdiff_t>(n),
                      [](char c) { return c != 0; })) {
        return Status::Corruption("damaged archive: data after the end-of-archive marker");
      }
    }
    return Status::OK();
  }

 private:
  Status CheckNothingAfter() {
    if (z_.avail_in > 0) return Status::Corruption("damaged archive: bytes after the gzip stream");
    char c;
    while (true) {
      const ssize_t r = ::read(fd_, &c, 1);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return Status::IOError(Errno("read", path_, errno));
      if (r > 0) return Status::Corruption("damaged archive: bytes after the gzip stream");
      return Status::OK();
    }
  }

  std::string path_;
  int fd_ = -1;
  z_stream z_{};
  bool z_open_ = false;
  bool ended_ = false;
  std::vector<char> in_ = std::vector<char>(kBufSize);
};

// A header's text field: the bytes up to the first NUL.
std::string Field(const char* block, size_t off, size_t len) {
  const char* p = block + off;
  return std::string(p, strnlen(p, len));
}

// An octal number field: optional leading spaces, octal digits, then NUL
// or space padding.
bool ParseOctal(const char* block, size_t off, size_t len, uint64_t* out) {
  const char* p = block + off;
  size_t i = 0;
  while (i < len && p[i] == ' ') ++i;
  uint64_t v = 0;
  size_t digits = 0;
  for (; i < len && p[i] >= '0' && p[i] <= '7'; ++i, ++digits) {
    if (v >> 60 != 0) return false;
    v = (v << 3) | static_cast<uint64_t>(p[i] - '0');
  }
  for (; i < len; ++i) {
    if (p[i] != ' ' && p[i] != '\0') return false;
  }
  *out = v;
  return digits > 0;
}

std::string TypeName(char type) {
  switch (type) {
    case '1':
      return "a hard link";
    case '2':
      return "a symbolic link";
    case '3':
      return "a character device";
    case '4':
      return "a block device";
    case '6':
      return "a fifo";
    case '7':
      return "a contiguous file";
    case 'x':
    case 'g':
      return "a pax extended header";
    case 'L':
    case 'K':
      return "a GNU long-name header";
    default:
      return std::string("of unknown type '") + type + "'";
  }
}

}  // namespace

Status ReadTarGz(const std::string& archive, ArchiveVisitor* visitor, std::string* top) {
  GzipSource src;
  IMMUDB_RETURN_IF_ERROR(src.Open(archive));
  std::map<std::string, bool> kinds;  // Path -> is a directory (also implied ones).
  std::set<std::string> seen;         // Paths of members.
  std::string top_dir;
  std::vector<char> buf(kBufSize);
  char h[kBlock];
  uint64_t member = 0;
  while (true) {
    IMMUDB_ASSIGN_OR_RETURN(size_t n, src.Read(h, kBlock));
    if (n < kBlock) {
      return Status::Corruption(n == 0 && member == 0
                                    ? "damaged archive: empty tar stream"
                                    : "truncated archive: the end-of-archive marker is missing");
    }
    if (std::all_of(h, h + kBlock, [](char c) { return c == 0; })) {
      IMMUDB_ASSIGN_OR_RETURN(n, src.Read(h, kBlock));
      if (n < kBlock || !std::all_of(h, h + kBlock, [](char c) { return c == 0; })) {
        return Status::Corruption("truncated archive: the end-of-archive marker is incomplete");
      }
      IMMUDB_RETURN_IF_ERROR(src.DrainZeros());
      break;
    }
    ++member;
    const std::string where = "tar header " + std::to_string(member);
    uint64_t sum = 0;
    if (!ParseOctal(h, kSumOff, kSumLen, &sum) || sum != HeaderSum(h)) {
      return Status::Corruption("damaged archive: " + where + ": checksum mismatch");
    }
    const bool posix = std::memcmp(h + kMagicOff, "ustar\0", 6) == 0;
    const bool gnu = std::memcmp(h + kMagicOff, "ustar ", 6) == 0;
    if (!posix && !gnu) {
      return Status::InvalidArgument(where + ": not a ustar header");
    }
    std::string name = Field(h, kNameOff, kNameLen);
    const std::string prefix = posix ? Field(h, kPrefixOff, kPrefixLen) : "";
    if (!prefix.empty()) name = prefix + "/" + name;
    const char type = h[kTypeOff];
    if (type != '0' && type != '\0' && type != '5') {
      return Status::InvalidArgument("member '" + name + "' is " + TypeName(type) +
                                     ": only regular files and directories are accepted");
    }
    const bool dir = type == '5';
    uint64_t size = 0, mode = 0;
    if (!ParseOctal(h, kSizeOff, kNumLen, &size) || !ParseOctal(h, kModeOff, kIdLen, &mode)) {
      return Status::Corruption("damaged archive: member '" + name + "': bad size or mode field");
    }
    if (dir && !name.empty() && name.back() == '/') name.pop_back();
    if (!dir && !name.empty() && name.back() == '/') {
      return Status::InvalidArgument("member '" + name + "': a file whose path ends in '/'");
    }
    IMMUDB_RETURN_IF_ERROR(CheckMemberPath(name));
    if (dir && size != 0) {
      return Status::InvalidArgument("member '" + name + "': a directory with data");
    }
    if (size > kMaxMemberSize) {
      return Status::InvalidArgument("member '" + name + "': too large");
    }
    // One top-level directory holds everything.
    const std::string first = name.substr(0, name.find('/'));
    if (top_dir.empty()) top_dir = first;
    if (first != top_dir || (!dir && name == first)) {
      return Status::InvalidArgument("member '" + name + "' is outside the top-level directory '" +
                                     top_dir + "/': the archive must hold one directory");
    }
    if (!seen.insert(name).second) {
      return Status::InvalidArgument("member '" + name + "' appears twice");
    }
    for (size_t slash = name.find('/'); slash != std::string::npos;
         slash = name.find('/', slash + 1)) {
      const auto [it, added] = kinds.emplace(name.substr(0, slash), true);
      if (!it->second) {
        return Status::InvalidArgument("member '" + name + "' lies under the file member '" +
                                       it->first + "'");
      }
    }
    const auto [it, added] = kinds.emplace(name, dir);
    if (!added && !dir) {
      return Status::InvalidArgument("member '" + name +
                                     "' is a file where other members need a directory");
    }
    const uint32_t perm = static_cast<uint32_t>(mode & 0777);
    if (dir) {
      if (visitor != nullptr) IMMUDB_RETURN_IF_ERROR(visitor->Directory(name, perm));
      continue;
    }
    if (visitor != nullptr) IMMUDB_RETURN_IF_ERROR(visitor->FileBegin(name, perm, size));
    const uint64_t padded = (size + kBlock - 1) / kBlock * kBlock;
    uint64_t left = padded;
    while (left > 0) {
      const size_t want = static_cast<size_t>(std::min<uint64_t>(left, buf.size()));
      IMMUDB_ASSIGN_OR_RETURN(n, src.Read(buf.data(), want));
      if (n < want) {
        return Status::Corruption("truncated archive: the data of member '" + name +
                                  "' is incomplete");
      }
      const uint64_t done = padded - left;
      if (visitor != nullptr && done < size) {
        const size_t data = static_cast<size_t>(std::min<uint64_t>(n, size - done));
        IMMUDB_RETURN_IF_ERROR(visitor->FileData(buf.data(), data));
      }
      left -= n;
    }
    if (visitor != nullptr) IMMUDB_RETURN_IF_ERROR(visitor->FileEnd());
  }
  if (top_dir.empty()) return Status::InvalidArgument("the archive holds no members");
  if (top != nullptr) *top = top_dir;
  return Status::OK();
}

}  // namespace immudb::admin::archive
