// Result<T>: a value of type T or an error Status (never an OK status).
// Thread-compatible, like the T it holds.
#pragma once

#include <cassert>
#include <utility>
#include <variant>

#include "immudb/status.h"

namespace immudb {

template <class T>
class [[nodiscard]] Result {
 public:
  // REQUIRES: !status.ok()
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(v_).ok());
  }
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  // OK when a value is held.
  Status status() const { return ok() ? Status::OK() : std::get<Status>(v_); }

  // REQUIRES: ok()
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace immudb

// Evaluates `rexpr` (a Result<T>); on error returns its Status, else moves the
// value into `lhs` (which may be a declaration such as `auto x`).
#define IMMUDB_ASSIGN_OR_RETURN(lhs, rexpr) \
  IMMUDB_ASSIGN_OR_RETURN_IMPL_(IMMUDB_CONCAT_(_immudb_res_, __LINE__), lhs, rexpr)
#define IMMUDB_ASSIGN_OR_RETURN_IMPL_(res, lhs, rexpr) \
  auto res = (rexpr);                                  \
  if (!res.ok()) return res.status();                  \
  lhs = std::move(res).value()
