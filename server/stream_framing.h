// Stream framing of the stream* RPCs (wire-api.md §1.4): a stream carries
// logical messages, each an 8-byte big-endian length L followed by L bytes,
// cut into Chunk.content pieces of at most the chunk size. A message starts
// a new chunk when written here; the reader also accepts chunks that hold
// the end of one message and the start of the next.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "immudb/result.h"
#include "schema.pb.h"

namespace immudb::server {

inline constexpr size_t kStreamChunkSize = 64 * 1024;
// Most bytes in one streamed message, and in all values of one streamed write.
inline constexpr uint64_t kMaxStreamMessageLen = 32 << 20;

inline constexpr char kErrStreamMessageTooLong[] = "max stream message length exceeded";
inline constexpr char kErrStreamTruncated[] = "stream ended in the middle of a message";

// Big-endian fixed-width numbers inside streams.
std::string EncodeU64(uint64_t v);
std::string EncodeF64(double v);
// InvalidArgument unless `b` is exactly 8 bytes.
Result<uint64_t> DecodeU64(std::string_view b);

class StreamWriter {
 public:
  // `write` sends one chunk and returns false if the stream is broken.
  explicit StreamWriter(std::function<bool(const schema::Chunk&)> write,
                        size_t chunk_size = kStreamChunkSize)
      : write_(std::move(write)), chunk_size_(chunk_size) {}
  // Frames and sends one message. False if a chunk could not be sent.
  bool Send(std::string_view message);

 private:
  std::function<bool(const schema::Chunk&)> write_;
  const size_t chunk_size_;
};

class StreamReader {
 public:
  // `read` fills the next chunk and returns false at the end of the stream.
  explicit StreamReader(std::function<bool(schema::Chunk*)> read) : read_(std::move(read)) {}
  // The next message; nullopt at a clean end of stream. InvalidArgument
  // kErrStreamTruncated if the stream ends inside a message,
  // kErrStreamMessageTooLong if L > max_len (checked before reading the body).
  Result<std::optional<std::string>> Next(uint64_t max_len = kMaxStreamMessageLen);

 private:
  // Reads chunks until buf_ holds `n` bytes past pos_; false at end of stream.
  bool Fill(size_t n);

  std::function<bool(schema::Chunk*)> read_;
  std::string buf_;
  size_t pos_ = 0;
};

}  // namespace immudb::server
