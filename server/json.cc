#include "server/json.h"

#include <charconv>
#include <cstdio>

namespace immudb::server {
namespace {

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  Result<Json> Document() {
    IMMUDB_ASSIGN_OR_RETURN(Json v, Value(0));
    Skip();
    if (p_ != s_.size()) return Err("trailing characters");
    return v;
  }

 private:
  Status Err(const char* what) const {
    return Status::InvalidArgument(std::string("json: ") + what + " at offset " +
                                   std::to_string(p_));
  }
  void Skip() {
    while (p_ < s_.size() && (s_[p_] == ' ' || s_[p_] == '\t' || s_[p_] == '\n' || s_[p_] == '\r'))
      ++p_;
  }
  bool Eat(char c) {
    Skip();
    if (p_ < s_.size() && s_[p_] == c) {
      ++p_;
      return true;
    }
    return false;
  }
  bool Word(std::string_view w) {
    if (s_.substr(p_, w.size()) != w) return false;
    p_ += w.size();
    return true;
  }

  Result<Json> Value(int depth) {
    if (depth > 32) return Err("nesting too deep");
    Skip();
    if (p_ >= s_.size()) return Err("unexpected end");
    char c = s_[p_];
    if (c == '{') return ParseObject(depth);
    if (c == '[') return ParseArray(depth);
    if (c == '"') {
      IMMUDB_ASSIGN_OR_RETURN(std::string str, String());
      return Json(std::move(str));
    }
    if (Word("true")) return Json(true);
    if (Word("false")) return Json(false);
    if (Word("null")) return Json();
    int64_t n = 0;
    auto [end, ec] = std::from_chars(s_.data() + p_, s_.data() + s_.size(), n);
    if (ec != std::errc()) return Err("bad value");
    p_ = end - s_.data();
    if (p_ < s_.size() && (s_[p_] == '.' || s_[p_] == 'e' || s_[p_] == 'E')) {
      return Err("only integers are supported");
    }
    return Json(n);
  }

  Result<Json> ParseObject(int depth) {
    ++p_;
    Json::Object obj;
    if (Eat('}')) return Json(std::move(obj));
    do {
      Skip();
      if (p_ >= s_.size() || s_[p_] != '"') return Err("expected key");
      IMMUDB_ASSIGN_OR_RETURN(std::string key, String());
      if (!Eat(':')) return Err("expected ':'");
      IMMUDB_ASSIGN_OR_RETURN(Json v, Value(depth + 1));
      obj[std::move(key)] = std::move(v);
    } while (Eat(','));
    if (!Eat('}')) return Err("expected '}'");
    return Json(std::move(obj));
  }

  Result<Json> ParseArray(int depth) {
    ++p_;
    Json::Array arr;
    if (Eat(']')) return Json(std::move(arr));
    do {
      IMMUDB_ASSIGN_OR_RETURN(Json v, Value(depth + 1));
      arr.push_back(std::move(v));
    } while (Eat(','));
    if (!Eat(']')) return Err("expected ']'");
    return Json(std::move(arr));
  }

  static void AppendUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      *out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      *out += static_cast<char>(0xC0 | (cp >> 6));
      *out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      *out += static_cast<char>(0xE0 | (cp >> 12));
      *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      *out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  Result<std::string> String() {
    ++p_;  // Opening quote.
    std::string out;
    while (p_ < s_.size() && s_[p_] != '"') {
      char c = s_[p_++];
      if (c != '\\') {
        out += c;
        continue;
      }
      if (p_ >= s_.size()) break;
      char e = s_[p_++];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          uint32_t cp = 0;
          if (p_ + 4 > s_.size()) return Err("bad \\u escape");
          auto [end, ec] = std::from_chars(s_.data() + p_, s_.data() + p_ + 4, cp, 16);
          if (ec != std::errc() || end != s_.data() + p_ + 4) return Err("bad \\u escape");
          p_ += 4;
          AppendUtf8(cp, &out);
          break;
        }
        default:
          return Err("bad escape");
      }
    }
    if (p_ >= s_.size()) return Err("unterminated string");
    ++p_;
    return out;
  }

  std::string_view s_;
  size_t p_ = 0;
};

void DumpString(const std::string& s, std::string* out) {
  *out += '"';
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      *out += '\\';
      *out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      *out += buf;
    } else {
      *out += static_cast<char>(c);
    }
  }
  *out += '"';
}

void DumpTo(const Json& j, std::string* out) {
  if (j.is_null()) {
    *out += "null";
  } else if (auto b = j.as_bool()) {
    *out += *b ? "true" : "false";
  } else if (auto n = j.as_int()) {
    *out += std::to_string(*n);
  } else if (auto s = j.as_string()) {
    DumpString(*s, out);
  } else if (auto a = j.as_array()) {
    *out += '[';
    for (size_t i = 0; i < a->size(); ++i) {
      if (i) *out += ',';
      DumpTo((*a)[i], out);
    }
    *out += ']';
  } else if (auto o = j.as_object()) {
    *out += '{';
    bool first = true;
    for (const auto& [k, v] : *o) {
      if (!first) *out += ',';
      first = false;
      DumpString(k, out);
      *out += ':';
      DumpTo(v, out);
    }
    *out += '}';
  }
}

}  // namespace

Result<Json> Json::Parse(std::string_view text) { return Parser(text).Document(); }

std::string Json::Dump() const {
  std::string out;
  DumpTo(*this, &out);
  return out;
}

const Json* Json::Find(const std::string& key) const {
  const Object* o = as_object();
  if (!o) return nullptr;
  auto it = o->find(key);
  return it == o->end() ? nullptr : &it->second;
}

}  // namespace immudb::server
