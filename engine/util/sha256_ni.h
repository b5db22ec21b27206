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

// A chain of hash-tree nodes: c = first, then for k = 0..n-1
// c = SHA-256(0x01 | lefts[k][0..32) | c), each c written to out[32k..32k+32).
// Kept in registers from one node to the next; the rounds that read only
// lefts[k] do not wait for the previous node. REQUIRES: Available().
void NodeChain(const uint8_t first[32], const uint8_t* const* lefts, size_t n, uint8_t* out);
// out[0..32) = SHA-256(0x00 | d[0..32)) (the leaf hash), then NodeChain from
// it into out + 32. REQUIRES: Available().
void LeafNodeChain(const uint8_t d[32], const uint8_t* const* lefts, size_t n, uint8_t* out);

// A tx header's inner hash, SHA-256(prefix[0..prefix_len) | root[0..32)),
// with prefix_len 52 or 56 (header versions 0 and 1; prefix zero-padded to
// 64 bytes), and its Alh, SHA-256(id_prev[0..40) | inner) (id_prev padded
// to 48 bytes), kept in registers from one to the other. REQUIRES:
// Available().
void InnerAndAlh(const uint8_t prefix[64], size_t prefix_len, const uint8_t root[32],
                 const uint8_t id_prev[48], uint8_t inner[32], uint8_t alh[32]);

// The largest `at` ValueDigestLeaf takes: the hash and the padding (9
// bytes) must fit in two blocks.
inline constexpr size_t kMaxDigestAt = 128 - 32 - 9;

// Three hashes chained in registers: hval = SHA-256(value[0..vlen)); then
// digest = SHA-256 of the message whose padded blocks are msg[0..64 *
// nblocks) with hval's 32 bytes at [at, at + 32) (msg holds the other bytes,
// the 0x80, the zeros and the length, and zeros at [at, at + 32)); then,
// unless leaf is null, leaf = SHA-256(0x00 | digest). The value's whole
// blocks are read where they are. REQUIRES: Available(), nblocks 1 or 2,
// at + 32 <= 64 * nblocks - 9, at <= kMaxDigestAt.
void ValueDigestLeaf(const uint8_t* value, size_t vlen, const uint8_t msg[128], size_t at,
                     size_t nblocks, uint8_t hval[32], uint8_t digest[32], uint8_t* leaf);

// SHA-256 of data[0..n) into out[32]. REQUIRES: Available().
void Hash(const void* data, size_t n, uint8_t out[32]);

}  // namespace immudb::sha_ni
