// CRC-32C (Castagnoli), with the SSE4.2 instruction when available.
// Stored checksums are masked (as LevelDB does) so that a CRC of data that
// itself contains CRCs is not trivially related to them.
#pragma once

#include <cstddef>
#include <cstdint>

namespace immudb::crc32c {

// Extends `crc` (initially 0) over data.
uint32_t Extend(uint32_t crc, const void* data, size_t n);
inline uint32_t Value(const void* data, size_t n) { return Extend(0, data, n); }

inline constexpr uint32_t kMaskDelta = 0xa282ead8u;
inline uint32_t Mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + kMaskDelta; }
inline uint32_t Unmask(uint32_t m) {
  uint32_t rot = m - kMaskDelta;
  return (rot >> 17) | (rot << 15);
}

}  // namespace immudb::crc32c
