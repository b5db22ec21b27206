// Status: the result of an engine operation, OK or an error code with a message.
//
// Codes reuse the gRPC/absl numbers so the server maps them one to one. An OK
// status holds no allocation. Status is a value type; it is thread-compatible.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace immudb {

enum class StatusCode : int {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,  // Corruption: stored bytes do not match their checksum/hash.
  kUnauthenticated = 16,
  kIOError = 100,  // Not a gRPC code; the server maps it to INTERNAL.
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string_view msg);
  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string_view m) {
    return Status(StatusCode::kInvalidArgument, m);
  }
  static Status NotFound(std::string_view m) { return Status(StatusCode::kNotFound, m); }
  static Status AlreadyExists(std::string_view m) { return Status(StatusCode::kAlreadyExists, m); }
  static Status Corruption(std::string_view m) { return Status(StatusCode::kDataLoss, m); }
  static Status IOError(std::string_view m) { return Status(StatusCode::kIOError, m); }
  static Status FailedPrecondition(std::string_view m) {
    return Status(StatusCode::kFailedPrecondition, m);
  }
  static Status OutOfRange(std::string_view m) { return Status(StatusCode::kOutOfRange, m); }
  static Status Unimplemented(std::string_view m) { return Status(StatusCode::kUnimplemented, m); }
  static Status Internal(std::string_view m) { return Status(StatusCode::kInternal, m); }
  static Status ResourceExhausted(std::string_view m) {
    return Status(StatusCode::kResourceExhausted, m);
  }
  static Status DeadlineExceeded(std::string_view m) {
    return Status(StatusCode::kDeadlineExceeded, m);
  }
  static Status Aborted(std::string_view m) { return Status(StatusCode::kAborted, m); }
  static Status PermissionDenied(std::string_view m) {
    return Status(StatusCode::kPermissionDenied, m);
  }
  static Status Unavailable(std::string_view m) { return Status(StatusCode::kUnavailable, m); }

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  // The message without the code name; empty for OK.
  const std::string& message() const;
  // "OK" or "<CodeName>: <message>".
  std::string ToString() const;

  bool IsNotFound() const { return code() == StatusCode::kNotFound; }
  bool IsCorruption() const { return code() == StatusCode::kDataLoss; }
  bool IsInvalidArgument() const { return code() == StatusCode::kInvalidArgument; }
  bool IsIOError() const { return code() == StatusCode::kIOError; }

  // Returns a copy with "prefix: " put before the message. OK stays OK.
  Status WithPrefix(std::string_view prefix) const;

 private:
  struct Rep {
    StatusCode code;
    std::string msg;
  };
  std::unique_ptr<Rep> rep_;
};

}  // namespace immudb

#define IMMUDB_CONCAT_INNER_(a, b) a##b
#define IMMUDB_CONCAT_(a, b) IMMUDB_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (a Status) is not OK.
#define IMMUDB_RETURN_IF_ERROR(expr)         \
  do {                                       \
    ::immudb::Status _immudb_st = (expr);    \
    if (!_immudb_st.ok()) return _immudb_st; \
  } while (0)
