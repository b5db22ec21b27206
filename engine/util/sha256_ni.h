// SHA-256 block function on the x86 SHA extensions (SHA-NI), and one-shot
// hashing of short inputs built on it. Used by util/sha256.cc when the CPU
// has the instructions; everything else falls back to OpenSSL.
#pragma once

#include <cstddef>
#include <cstdint>

namespace immudb::sha_ni {

// True when the CPU supports SHA-NI (and SSE4.1/SSSE3, which it implies).
bool Available();

// Processes `nblocks` 64-byte blocks into `state` (8 words, native order).
// REQUIRES: Available().
void Compress(uint32_t state[8], const uint8_t* blocks, size_t nblocks);

// SHA-256 of data[0..n) into out[32]. REQUIRES: Available().
void Hash(const void* data, size_t n, uint8_t out[32]);

}  // namespace immudb::sha_ni
