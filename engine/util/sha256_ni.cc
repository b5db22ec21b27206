#include "util/sha256_ni.h"

#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace immudb::sha_ni {
namespace {

// The SHA-256 constants, derived instead of tabulated: K[i] is the first 32
// bits of the fractional part of the cube root of the i-th prime, H0[i] of
// the square root of the i-th prime (FIPS 180-4 §4.2.2, §5.3.3). Integer
// roots on 128-bit arithmetic make them exact.
struct Constants {
  alignas(16) uint32_t k[64];
  uint32_t h0[8];

  static uint64_t IntRoot(unsigned __int128 v, int power) {
    uint64_t lo = 0, hi = uint64_t{1} << 40;
    while (lo < hi) {  // Largest x with x^power <= v.
      uint64_t mid = lo + (hi - lo + 1) / 2;
      unsigned __int128 p = mid;
      for (int i = 1; i < power; i++) p *= mid;
      if (p <= v) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return lo;
  }

  Constants() {
    int primes[64];
    for (int n = 2, c = 0; c < 64; n++) {
      bool prime = true;
      for (int d = 2; d * d <= n; d++) prime = prime && (n % d != 0);
      if (prime) primes[c++] = n;
    }
    for (int i = 0; i < 64; i++) {
      k[i] = static_cast<uint32_t>(IntRoot(static_cast<unsigned __int128>(primes[i]) << 96, 3));
    }
    for (int i = 0; i < 8; i++) {
      h0[i] = static_cast<uint32_t>(IntRoot(static_cast<unsigned __int128>(primes[i]) << 64, 2));
    }
  }
};

const Constants& C() {
  static const Constants kC;
  return kC;
}

}  // namespace

#if defined(__x86_64__)

bool Available() {
  static const bool kAvailable = [] {
    __builtin_cpu_init();
    unsigned eax, ebx, ecx, edx;
    __asm__("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx) : "a"(7), "c"(0));
    const bool sha = (ebx >> 29) & 1;
    return sha && __builtin_cpu_supports("sse4.1") && __builtin_cpu_supports("ssse3");
  }();
  return kAvailable;
}

__attribute__((target("sha,sse4.1,ssse3"))) void Compress(uint32_t state[8], const uint8_t* blocks,
                                                          size_t nblocks) {
  const Constants& c = C();
  const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bll, 0x0405060700010203ll);
  // Lanes of the two state registers as the instructions expect them:
  // state0 = (F, E, B, A), state1 = (H, G, D, C), highest lane first.
  __m128i t = _mm_loadu_si128(reinterpret_cast<const __m128i*>(state));
  __m128i state1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(state + 4));
  t = _mm_shuffle_epi32(t, 0xB1);
  state1 = _mm_shuffle_epi32(state1, 0x1B);
  __m128i state0 = _mm_alignr_epi8(t, state1, 8);
  state1 = _mm_blend_epi16(state1, t, 0xF0);

  for (size_t b = 0; b < nblocks; b++, blocks += 64) {
    const __m128i save0 = state0, save1 = state1;
    __m128i msg[4];
    for (int j = 0; j < 4; j++) {
      msg[j] = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blocks + 16 * j)),
                                bswap);
    }
    for (int i = 0; i < 16; i++) {
      if (i >= 4) {
        // W[4i..4i+3] from W[4i-16..4i-1], kept in msg[] as a ring of 4.
        __m128i w = _mm_sha256msg1_epu32(msg[i & 3], msg[(i + 1) & 3]);
        w = _mm_add_epi32(w, _mm_alignr_epi8(msg[(i + 3) & 3], msg[(i + 2) & 3], 4));
        msg[i & 3] = _mm_sha256msg2_epu32(w, msg[(i + 3) & 3]);
      }
      __m128i m =
          _mm_add_epi32(msg[i & 3], _mm_load_si128(reinterpret_cast<const __m128i*>(c.k + 4 * i)));
      state1 = _mm_sha256rnds2_epu32(state1, state0, m);
      m = _mm_shuffle_epi32(m, 0x0E);
      state0 = _mm_sha256rnds2_epu32(state0, state1, m);
    }
    state0 = _mm_add_epi32(state0, save0);
    state1 = _mm_add_epi32(state1, save1);
  }

  t = _mm_shuffle_epi32(state0, 0x1B);
  state1 = _mm_shuffle_epi32(state1, 0xB1);
  state0 = _mm_blend_epi16(t, state1, 0xF0);
  state1 = _mm_alignr_epi8(state1, t, 8);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(state), state0);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(state + 4), state1);
}

#else

bool Available() { return false; }
void Compress(uint32_t*, const uint8_t*, size_t) {}

#endif

void Hash(const void* data, size_t n, uint8_t out[32]) {
  uint32_t st[8];
  std::memcpy(st, C().h0, sizeof(st));
  const auto* p = static_cast<const uint8_t*>(data);
  // Padding: 0x80, zeros, then the bit length as u64 big-endian. Short
  // messages (the hash-tree nodes, leaves and headers) are padded in one
  // buffer and compressed in one call.
  alignas(16) uint8_t tail[128];
  size_t full = 0, rest = n;
  if (n + 9 > sizeof(tail)) {
    full = n / 64;
    rest = n - full * 64;
    Compress(st, p, full);
  }
  const size_t tail_len = rest + 9 <= 64 ? 64 : 128;
  std::memcpy(tail, p + full * 64, rest);
  tail[rest] = 0x80;
  std::memset(tail + rest + 1, 0, tail_len - rest - 1 - 8);
  const uint64_t bits = static_cast<uint64_t>(n) * 8;
  for (int i = 0; i < 8; i++) tail[tail_len - 1 - i] = static_cast<uint8_t>(bits >> (8 * i));
  Compress(st, tail, tail_len / 64);
  for (int i = 0; i < 8; i++) {
    const uint32_t be = __builtin_bswap32(st[i]);
    std::memcpy(out + 4 * i, &be, 4);
  }
}

}  // namespace immudb::sha_ni
