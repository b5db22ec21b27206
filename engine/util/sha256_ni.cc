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

// The last blocks of an n-byte message that ends in rest[0..r) (r + 9 <=
// 128, and n - r a multiple of 64): those bytes, 0x80, zeros, then the bit
// length as u64 big-endian, written to tail. Returns their length (64, or
// 128 when the padding does not fit one block).
size_t PadTail(const uint8_t* rest, size_t r, uint64_t n, uint8_t tail[128]) {
  const size_t tail_len = r + 9 <= 64 ? 64 : 128;
  if (r > 0) std::memcpy(tail, rest, r);
  tail[r] = 0x80;
  std::memset(tail + r + 1, 0, tail_len - r - 1 - 8);
  const uint64_t bits = n * 8;
  for (int i = 0; i < 8; i++) tail[tail_len - 1 - i] = static_cast<uint8_t>(bits >> (8 * i));
  return tail_len;
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

namespace {

// Message words of a 64-byte block, W[4j..4j+3] in w[j] (W[4j] in lane 0),
// and the working state in the instructions' layout (see Compress).
struct Regs {
  __m128i s0, s1;
};

// Rounds 4g..4g+3 with w = W[4g..4g+3]; k = the round constants.
__attribute__((target("sha,sse4.1,ssse3"), always_inline)) inline void Group(Regs& r, __m128i w,
                                                                             const uint32_t* k,
                                                                             int g) {
  __m128i m = _mm_add_epi32(w, _mm_load_si128(reinterpret_cast<const __m128i*>(k + 4 * g)));
  r.s1 = _mm_sha256rnds2_epu32(r.s1, r.s0, m);
  m = _mm_shuffle_epi32(m, 0x0E);
  r.s0 = _mm_sha256rnds2_epu32(r.s0, r.s1, m);
}

// Rounds 8..63 of a block whose rounds 0..7 left the state r; w[0..3] are
// its message words.
__attribute__((target("sha,sse4.1,ssse3"), always_inline)) inline void Rounds8To63(
    Regs& r, __m128i w[4], const uint32_t* k) {
  for (int i = 2; i < 16; i++) {
    if (i >= 4) {
      __m128i x = _mm_sha256msg1_epu32(w[i & 3], w[(i + 1) & 3]);
      x = _mm_add_epi32(x, _mm_alignr_epi8(w[(i + 3) & 3], w[(i + 2) & 3], 4));
      w[i & 3] = _mm_sha256msg2_epu32(x, w[(i + 3) & 3]);
    }
    Group(r, w[i & 3], k, i);
  }
}

// The initial state in the instructions' layout: s0 holds (A, B, E, F) and
// s1 (C, D, G, H) from lane 3 down to lane 0.
__attribute__((target("sha,sse4.1,ssse3"))) Regs Initial() {
  const uint32_t* h = C().h0;
  Regs r;
  r.s0 = _mm_set_epi32(static_cast<int>(h[0]), static_cast<int>(h[1]), static_cast<int>(h[4]),
                       static_cast<int>(h[5]));
  r.s1 = _mm_set_epi32(static_cast<int>(h[2]), static_cast<int>(h[3]), static_cast<int>(h[6]),
                       static_cast<int>(h[7]));
  return r;
}

// Digest words (x = H0..H3, y = H4..H7, big-endian words in lanes 0..3) of
// the state after the last block.
__attribute__((target("sha,sse4.1,ssse3"), always_inline)) inline void Digest(const Regs& r,
                                                                              __m128i& x,
                                                                              __m128i& y) {
  // Lanes 0..3: s0 = (F, E, B, A), s1 = (H, G, D, C).
  x = _mm_shuffle_epi32(_mm_unpackhi_epi64(r.s0, r.s1), 0xB1);
  y = _mm_shuffle_epi32(_mm_unpacklo_epi64(r.s0, r.s1), 0xB1);
}

// One whole block from state r: rounds 0..63 and the feed-forward.
__attribute__((target("sha,sse4.1,ssse3"), always_inline)) inline Regs Block(const Regs& in,
                                                                             __m128i w[4],
                                                                             const uint32_t* k) {
  Regs r = in;
  Group(r, w[0], k, 0);
  Group(r, w[1], k, 1);
  Rounds8To63(r, w, k);
  r.s0 = _mm_add_epi32(r.s0, in.s0);
  r.s1 = _mm_add_epi32(r.s1, in.s1);
  return r;
}

// Four big-endian message words from p[0..16).
__attribute__((target("sha,sse4.1,ssse3"), always_inline)) inline __m128i LoadWords(
    const uint8_t* p) {
  const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bll, 0x0405060700010203ll);
  return _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), bswap);
}

// Stores digest words (x, y) as the digest's 32 bytes.
__attribute__((target("sha,sse4.1,ssse3"), always_inline)) inline void StoreWords(__m128i x,
                                                                                  __m128i y,
                                                                                  uint8_t out[32]) {
  const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bll, 0x0405060700010203ll);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm_shuffle_epi8(x, bswap));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16), _mm_shuffle_epi8(y, bswap));
}

// W[j] = (P[j] << 24) | (V[j] >> 8), P = (prev lane 3, V lanes 0..2): the
// words of a message whose bytes are those of V shifted one byte on.
__attribute__((target("sha,sse4.1,ssse3"), always_inline)) inline __m128i ShiftIn(__m128i v,
                                                                                  __m128i prev) {
  return _mm_or_si128(_mm_slli_epi32(_mm_alignr_epi8(v, prev, 12), 24), _mm_srli_epi32(v, 8));
}

// The node chain of NodeChain from digest words (x, y).
__attribute__((target("sha,sse4.1,ssse3"), always_inline)) inline void NodeLoop(
    __m128i x, __m128i y, const uint8_t* const* lefts, size_t n, uint8_t* out) {
  const Regs iv = Initial();
  const uint32_t* kc = C().k;
  const __m128i one = _mm_set_epi32(1, 0, 0, 0);  // The 0x01 prefix as lane 3.
  const __m128i len = _mm_set_epi32(65 * 8, 0, 0, 0);
  for (size_t k = 0; k < n; k++) {
    // Block 1 of 0x01 | left | right: left's words shifted in after 0x01,
    // then right's after left's last byte. Rounds 0..7 read left only, so
    // they need not wait for the previous node.
    const __m128i la = LoadWords(lefts[k]);
    const __m128i lb = LoadWords(lefts[k] + 16);
    __m128i w[4] = {ShiftIn(la, one), ShiftIn(lb, la), ShiftIn(x, lb), ShiftIn(y, x)};
    // Block 2: right's last byte, 0x80, zeros and the length in bits.
    __m128i v[4] = {_mm_cvtsi32_si128(static_cast<int>(
                        (static_cast<uint32_t>(_mm_extract_epi32(y, 3)) << 24) | 0x00800000u)),
                    _mm_setzero_si128(), _mm_setzero_si128(), len};
    const Regs r = Block(Block(iv, w, kc), v, kc);
    Digest(r, x, y);
    StoreWords(x, y, out + 32 * k);
  }
}

}  // namespace

__attribute__((target("sha,sse4.1,ssse3"))) void NodeChain(const uint8_t first[32],
                                                           const uint8_t* const* lefts, size_t n,
                                                           uint8_t* out) {
  NodeLoop(LoadWords(first), LoadWords(first + 16), lefts, n, out);
}

namespace {

// The leaf hash SHA-256(0x00 | d) of the digest words (da, db): one block of
// 0x00 | d, 0x80, zeros and the length (33 bytes, 264 bits).
__attribute__((target("sha,sse4.1,ssse3"), always_inline)) inline Regs LeafBlock(__m128i da,
                                                                                 __m128i db) {
  const __m128i pad = _mm_set_epi32(0, 0, 0, 0x00800000);
  __m128i w[4] = {
      ShiftIn(da, _mm_setzero_si128()), ShiftIn(db, da),
      _mm_or_si128(_mm_slli_epi32(_mm_alignr_epi8(_mm_setzero_si128(), db, 12), 24), pad),
      _mm_set_epi32(33 * 8, 0, 0, 0)};
  return Block(Initial(), w, C().k);
}

// kWindow[128 + i] = i for i in 0..15, every other byte 0x80: 16 bytes of it
// from 128 + s are the pshufb control that moves a register's bytes s
// places on (negative s: back), zeroing the rest.
struct Window {
  alignas(16) uint8_t b[128 + 16 + 128];
  Window() {
    std::memset(b, 0x80, sizeof(b));
    for (int i = 0; i < 16; i++) b[128 + i] = static_cast<uint8_t>(i);
  }
};

const Window kWindow;

}  // namespace

__attribute__((target("sha,sse4.1,ssse3"))) void LeafNodeChain(const uint8_t d[32],
                                                               const uint8_t* const* lefts,
                                                               size_t n, uint8_t* out) {
  __m128i x, y;
  Digest(LeafBlock(LoadWords(d), LoadWords(d + 16)), x, y);
  StoreWords(x, y, out);
  NodeLoop(x, y, lefts, n, out + 32);
}

__attribute__((target("sha,sse4.1,ssse3"))) void ValueDigestLeaf(const uint8_t* value, size_t vlen,
                                                                 const uint8_t msg[128], size_t at,
                                                                 size_t nblocks, uint8_t hval[32],
                                                                 uint8_t digest[32],
                                                                 uint8_t* leaf) {
  const uint32_t* kc = C().k;
  const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bll, 0x0405060700010203ll);
  // The value's whole blocks from where they are, the rest padded on the
  // stack (one block, or two when the padding does not fit).
  Regs r = Initial();
  const size_t full = vlen / 64;
  for (size_t b = 0; b < full; b++) {
    const uint8_t* p = value + 64 * b;
    __m128i w[4] = {LoadWords(p), LoadWords(p + 16), LoadWords(p + 32), LoadWords(p + 48)};
    r = Block(r, w, kc);
  }
  alignas(16) uint8_t tail[128];
  const size_t tail_len = PadTail(value + 64 * full, vlen - 64 * full, vlen, tail);
  for (size_t b = 0; b < tail_len / 64; b++) {
    const uint8_t* p = tail + 64 * b;
    __m128i w[4] = {LoadWords(p), LoadWords(p + 16), LoadWords(p + 32), LoadWords(p + 48)};
    r = Block(r, w, kc);
  }
  __m128i x, y;
  Digest(r, x, y);
  StoreWords(x, y, hval);

  // The digest's message words: msg's, with hval's bytes moved into
  // [at, at + 32) straight from the digest words. A control byte c of the
  // byte-order window becomes (window at c ^ 3) ^ 3 in word order, so one
  // pshufb per half of hval does the move and the byte swap.
  const __m128i three = _mm_set1_epi8(3);
  r = Initial();
  for (size_t b = 0; b < nblocks; b++) {
    __m128i w[4];
    for (int j = 0; j < 4; j++) {
      const size_t q = 64 * b + 16 * static_cast<size_t>(j);
      const uint8_t* win = kWindow.b + 128 + q - at;
      const __m128i m0 = _mm_xor_si128(
          _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(win)), bswap), three);
      const __m128i m1 = _mm_xor_si128(
          _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(win - 16)), bswap),
          three);
      w[j] = _mm_or_si128(LoadWords(msg + q),
                          _mm_or_si128(_mm_shuffle_epi8(x, m0), _mm_shuffle_epi8(y, m1)));
    }
    r = Block(r, w, kc);
  }
  Digest(r, x, y);
  StoreWords(x, y, digest);
  if (leaf == nullptr) return;
  Digest(LeafBlock(x, y), x, y);
  StoreWords(x, y, leaf);
}

__attribute__((target("sha,sse4.1,ssse3"))) void InnerAndAlh(const uint8_t prefix[64],
                                                             size_t prefix_len,
                                                             const uint8_t root[32],
                                                             const uint8_t id_prev[48],
                                                             uint8_t inner[32], uint8_t alh[32]) {
  const uint32_t* kc = C().k;
  const Regs iv = Initial();
  const __m128i r0 = LoadWords(root), r1 = LoadWords(root + 16);
  // The 0x80 after the message as a word in lane 0, resp. lane 2.
  const __m128i end0 = _mm_set_epi32(0, 0, 0, static_cast<int>(0x80000000u));
  const __m128i end2 = _mm_set_epi32(0, static_cast<int>(0x80000000u), 0, 0);
  __m128i m[4] = {LoadWords(prefix), LoadWords(prefix + 16), LoadWords(prefix + 32),
                  LoadWords(prefix + 48)};
  __m128i b2[4];
  if (prefix_len == 56) {  // Words 14.. are the root's.
    m[3] = _mm_unpacklo_epi64(m[3], r0);
    b2[0] = _mm_alignr_epi8(r1, r0, 8);
    b2[1] = _mm_unpackhi_epi64(r1, end2);
  } else {  // 52: words 13.. are the root's.
    m[3] = _mm_blend_epi16(_mm_slli_si128(r0, 4), m[3], 0x03);
    b2[0] = _mm_alignr_epi8(r1, r0, 12);
    b2[1] = _mm_alignr_epi8(end0, r1, 12);
  }
  b2[2] = _mm_setzero_si128();
  b2[3] = _mm_set_epi32(static_cast<int>((prefix_len + 32) * 8), 0, 0, 0);
  __m128i x, y;
  Digest(Block(Block(iv, m, kc), b2, kc), x, y);
  StoreWords(x, y, inner);
  // Alh: id (2 words), prev_alh (8), inner (8), then 0x80 and 576 bits.
  __m128i a[4] = {LoadWords(id_prev), LoadWords(id_prev + 16),
                  _mm_unpacklo_epi64(LoadWords(id_prev + 32), x), _mm_alignr_epi8(y, x, 8)};
  __m128i a2[4] = {_mm_unpackhi_epi64(y, end2), _mm_setzero_si128(), _mm_setzero_si128(),
                   _mm_set_epi32(72 * 8, 0, 0, 0)};
  Digest(Block(Block(iv, a, kc), a2, kc), x, y);
  StoreWords(x, y, alh);
}

#else

bool Available() { return false; }
void Compress(uint32_t*, const uint8_t*, size_t) {}
void NodeChain(const uint8_t*, const uint8_t* const*, size_t, uint8_t*) {}
void LeafNodeChain(const uint8_t*, const uint8_t* const*, size_t, uint8_t*) {}
void InnerAndAlh(const uint8_t*, size_t, const uint8_t*, const uint8_t*, uint8_t*, uint8_t*) {}
void ValueDigestLeaf(const uint8_t*, size_t, const uint8_t*, size_t, size_t, uint8_t*, uint8_t*,
                     uint8_t*) {}

#endif

void Hash(const void* data, size_t n, uint8_t out[32]) {
  uint32_t st[8];
  std::memcpy(st, C().h0, sizeof(st));
  const auto* p = static_cast<const uint8_t*>(data);
  // Short messages (the hash-tree nodes, leaves and headers) are padded in
  // one buffer and compressed in one call.
  alignas(16) uint8_t tail[128];
  size_t full = 0, rest = n;
  if (n + 9 > sizeof(tail)) {
    full = n / 64;
    rest = n - full * 64;
    Compress(st, p, full);
  }
  Compress(st, tail, PadTail(p + full * 64, rest, n, tail) / 64);
  for (int i = 0; i < 8; i++) {
    const uint32_t be = __builtin_bswap32(st[i]);
    std::memcpy(out + 4 * i, &be, 4);
  }
}

}  // namespace immudb::sha_ni
