// Fixed-width integer encoding. Hashed structures are big-endian (proofs.md
// notation u16/u32/u64); our own file records use the same helpers.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

namespace immudb {

inline void PutU16BE(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
inline void PutU32BE(uint8_t* p, uint32_t v) {
  for (int i = 3; i >= 0; i--) {
    p[i] = static_cast<uint8_t>(v);
    v >>= 8;
  }
}
inline void PutU64BE(uint8_t* p, uint64_t v) {
  for (int i = 7; i >= 0; i--) {
    p[i] = static_cast<uint8_t>(v);
    v >>= 8;
  }
}
inline uint16_t GetU16BE(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
inline uint32_t GetU32BE(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}
inline uint64_t GetU64BE(const uint8_t* p) {
  return (uint64_t{GetU32BE(p)} << 32) | GetU32BE(p + 4);
}

inline void AppendU8(std::string* s, uint8_t v) { s->push_back(static_cast<char>(v)); }
inline void AppendU16BE(std::string* s, uint16_t v) {
  uint8_t b[2];
  PutU16BE(b, v);
  s->append(reinterpret_cast<char*>(b), 2);
}
inline void AppendU32BE(std::string* s, uint32_t v) {
  uint8_t b[4];
  PutU32BE(b, v);
  s->append(reinterpret_cast<char*>(b), 4);
}
inline void AppendU64BE(std::string* s, uint64_t v) {
  uint8_t b[8];
  PutU64BE(b, v);
  s->append(reinterpret_cast<char*>(b), 8);
}

}  // namespace immudb
