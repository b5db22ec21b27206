#include "server/stream_framing.h"

#include <bit>
#include <cstring>

namespace immudb::server {

std::string EncodeU64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(v >> (56 - 8 * i));
  return out;
}

std::string EncodeF64(double v) { return EncodeU64(std::bit_cast<uint64_t>(v)); }

Result<uint64_t> DecodeU64(std::string_view b) {
  if (b.size() != 8) return Status::InvalidArgument("expected an 8-byte number in the stream");
  uint64_t v = 0;
  for (char c : b) v = (v << 8) | static_cast<uint8_t>(c);
  return v;
}

bool StreamWriter::Send(std::string_view message) {
  std::string first = EncodeU64(message.size());
  const size_t head = std::min(message.size(), chunk_size_ > 8 ? chunk_size_ - 8 : 0);
  first.append(message.substr(0, head));
  schema::Chunk chunk;
  chunk.set_content(std::move(first));
  if (!write_(chunk)) return false;
  for (size_t off = head; off < message.size(); off += chunk_size_) {
    chunk.set_content(std::string(message.substr(off, chunk_size_)));
    if (!write_(chunk)) return false;
  }
  return true;
}

bool StreamReader::Fill(size_t n) {
  while (buf_.size() - pos_ < n) {
    if (pos_ > 0) {
      buf_.erase(0, pos_);
      pos_ = 0;
    }
    schema::Chunk chunk;
    if (!read_(&chunk)) return false;
    buf_.append(chunk.content());
  }
  return true;
}

Result<std::optional<std::string>> StreamReader::Next(uint64_t max_len) {
  if (!Fill(8)) {
    if (buf_.size() == pos_) return std::optional<std::string>();
    return Status::InvalidArgument(kErrStreamTruncated);
  }
  auto len = DecodeU64(std::string_view(buf_).substr(pos_, 8));
  if (!len.ok()) return len.status();
  if (*len > max_len) return Status::InvalidArgument(kErrStreamMessageTooLong);
  pos_ += 8;
  if (!Fill(static_cast<size_t>(*len))) return Status::InvalidArgument(kErrStreamTruncated);
  std::string msg = buf_.substr(pos_, static_cast<size_t>(*len));
  pos_ += static_cast<size_t>(*len);
  return std::optional<std::string>(std::move(msg));
}

}  // namespace immudb::server
