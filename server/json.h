// A minimal JSON value with a parser and a writer, for the small records the
// server stores (user records in systemdb). Numbers are kept as int64 only;
// strings are byte strings (\uXXXX escapes become UTF-8). Thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "immudb/result.h"

namespace immudb::server {

class Json {
 public:
  using Array = std::vector<Json>;
  using Object = std::map<std::string, Json>;

  Json() = default;
  Json(bool b) : type_(Type::kBool), b_(b) {}                      // NOLINT
  Json(int64_t n) : type_(Type::kInt), n_(n) {}                    // NOLINT
  Json(std::string s) : type_(Type::kString), s_(std::move(s)) {}  // NOLINT
  Json(const char* s) : type_(Type::kString), s_(s) {}             // NOLINT
  Json(Array a) : type_(Type::kArray), a_(std::move(a)) {}         // NOLINT
  Json(Object o) : type_(Type::kObject), o_(std::move(o)) {}       // NOLINT

  // Parses one JSON document; InvalidArgument on malformed input or
  // non-integer numbers.
  static Result<Json> Parse(std::string_view text);
  // Compact text, object keys in sorted order.
  std::string Dump() const;

  bool is_null() const { return type_ == Type::kNull; }
  const bool* as_bool() const { return type_ == Type::kBool ? &b_ : nullptr; }
  const int64_t* as_int() const { return type_ == Type::kInt ? &n_ : nullptr; }
  const std::string* as_string() const { return type_ == Type::kString ? &s_ : nullptr; }
  const Array* as_array() const { return type_ == Type::kArray ? &a_ : nullptr; }
  const Object* as_object() const { return type_ == Type::kObject ? &o_ : nullptr; }
  // Member `key` of an object, or nullptr.
  const Json* Find(const std::string& key) const;

 private:
  enum class Type { kNull, kBool, kInt, kString, kArray, kObject };
  Type type_ = Type::kNull;
  bool b_ = false;
  int64_t n_ = 0;
  std::string s_;
  Array a_;
  Object o_;
};

}  // namespace immudb::server
