#include <gtest/gtest.h>

#include "immudb/duration_text.h"
#include "immudb/hash.h"
#include "immudb/result.h"
#include "immudb/status.h"
#include "util/coding.h"
#include "util/crc32c.h"
#include "util/parallel.h"
#include "util/sha256_ni.h"

#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/sha.h>

#include <atomic>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

namespace immudb {
namespace {

TEST(Sha256Test, KnownDigests) {
  EXPECT_EQ(ToHex(EmptyHash()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  uint8_t zero = 0;
  EXPECT_EQ(ToHex(Sha256Of(&zero, 1)),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
  Sha256 s;
  s.Update("ab");
  s.Update("c");
  EXPECT_EQ(ToHex(s.Final()), ToHex(Sha256Of("abc")));
  EXPECT_EQ(ToHex(Sha256Of("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// Our SHA-NI path and the incremental class against OpenSSL on every length
// around the block and padding boundaries, fed whole and in random pieces.
TEST(Sha256Test, MatchesOpenSslOnAllShortLengthsAndSplits) {
  std::mt19937 rng(7);
  for (size_t n = 0; n < 300; n++) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    Hash want;
    SHA256(reinterpret_cast<const unsigned char*>(s.data()), n, want.data());
    EXPECT_EQ(Sha256Of(s), want) << n;
    Sha256 inc;
    size_t pos = 0;
    while (pos < n) {
      size_t take = std::min<size_t>(n - pos, rng() % 80);
      inc.Update(s.data() + pos, take);
      pos += take;
    }
    EXPECT_EQ(inc.Final(), want) << n;
    if (sha_ni::Available()) {
      Hash ni;
      sha_ni::Hash(s.data(), n, ni.data());
      EXPECT_EQ(ni, want) << n;
    }
  }
}

TEST(Sha256Test, LeafAndNodeHashPrefixTheInput) {
  Hash a = Sha256Of("a"), b = Sha256Of("b");
  std::string leaf_in(1, '\0');
  leaf_in.append(reinterpret_cast<const char*>(a.data()), 32);
  EXPECT_EQ(LeafHash(a), Sha256Of(leaf_in));
  std::string node_in(1, '\1');
  node_in.append(reinterpret_cast<const char*>(a.data()), 32);
  node_in.append(reinterpret_cast<const char*>(b.data()), 32);
  EXPECT_EQ(NodeHash(a, b), Sha256Of(node_in));
  EXPECT_NE(NodeHash(a, b), NodeHash(b, a));
}

// NodeHashChain against OpenSSL over 0x01 | left | right, for chains shorter
// and longer than one call of the SHA-NI chain (64 nodes), with random bytes
// so that every byte position of left and right matters.
TEST(Sha256Test, NodeHashChainMatchesOpenSsl) {
  std::mt19937 rng(11);
  auto random_hash = [&rng] {
    Hash h;
    for (auto& b : h) b = static_cast<uint8_t>(rng());
    return h;
  };
  for (size_t n : {0, 1, 2, 3, 9, 31, 63, 64, 65, 130}) {
    std::vector<Hash> lefts(n);
    std::vector<const Hash*> ptrs(n);
    for (size_t k = 0; k < n; k++) {
      lefts[k] = random_hash();
      ptrs[k] = &lefts[k];
    }
    const Hash first = random_hash();
    std::vector<Hash> out(n);
    const Hash last = NodeHashChain(first, ptrs.data(), n, out.data());
    Hash c = first;
    for (size_t k = 0; k < n; k++) {
      unsigned char in[65];
      in[0] = 0x01;
      std::memcpy(in + 1, lefts[k].data(), 32);
      std::memcpy(in + 33, c.data(), 32);
      SHA256(in, sizeof(in), c.data());
      ASSERT_EQ(out[k], c) << "node " << k << " of " << n;
    }
    EXPECT_EQ(last, c) << n;

    // The same chain from a leaf: out[0] = H(0x00 | d), then the nodes.
    const Hash d = random_hash();
    std::vector<Hash> lout(n + 1);
    const Hash llast = LeafNodeHashChain(d, ptrs.data(), n, lout.data());
    unsigned char leaf_in[33];
    leaf_in[0] = 0x00;
    std::memcpy(leaf_in + 1, d.data(), 32);
    SHA256(leaf_in, sizeof(leaf_in), c.data());
    ASSERT_EQ(lout[0], c) << "leaf of " << n;
    for (size_t k = 0; k < n; k++) {
      ASSERT_EQ(lout[k + 1], NodeHash(lefts[k], lout[k])) << "node " << k << " of " << n;
    }
    EXPECT_EQ(llast, lout[n]) << n;
  }
}

TEST(HexTest, RoundTripAndRejectsBadInput) {
  std::string out;
  ASSERT_TRUE(FromHex("00ff10", &out));
  EXPECT_EQ(out, std::string("\x00\xff\x10", 3));
  EXPECT_EQ(ToHex(out), "00ff10");
  EXPECT_FALSE(FromHex("0", &out));
  EXPECT_FALSE(FromHex("zz", &out));
  Hash h;
  EXPECT_FALSE(HashFromHex("00", &h));
}

TEST(Crc32cTest, StandardVectors) {
  // RFC 3720 B.4 test vectors.
  char zeros[32] = {0};
  EXPECT_EQ(crc32c::Value(zeros, 32), 0x8a9136aau);
  char ones[32];
  for (char& c : ones) c = static_cast<char>(0xff);
  EXPECT_EQ(crc32c::Value(ones, 32), 0x62a8ab43u);
  EXPECT_EQ(crc32c::Value("123456789", 9), 0xe3069283u);
  EXPECT_EQ(crc32c::Extend(crc32c::Value("1234", 4), "56789", 5), 0xe3069283u);
  EXPECT_EQ(crc32c::Unmask(crc32c::Mask(0x12345678u)), 0x12345678u);
  EXPECT_NE(crc32c::Mask(0x12345678u), 0x12345678u);
}

TEST(CodingTest, BigEndianRoundTrip) {
  uint8_t b[8];
  PutU64BE(b, 0x0102030405060708ull);
  EXPECT_EQ(b[0], 1);
  EXPECT_EQ(b[7], 8);
  EXPECT_EQ(GetU64BE(b), 0x0102030405060708ull);
  PutU32BE(b, 0xa1b2c3d4u);
  EXPECT_EQ(GetU32BE(b), 0xa1b2c3d4u);
  PutU16BE(b, 0xbeef);
  EXPECT_EQ(GetU16BE(b), 0xbeef);
}

Result<int> Half(int x) {
  if (x % 2) return Status::InvalidArgument("odd");
  return x / 2;
}

Status UseHalf(int x, int* out) {
  IMMUDB_ASSIGN_OR_RETURN(*out, Half(x));
  return Status::OK();
}

TEST(StatusTest, CodesMessagesAndMacros) {
  EXPECT_TRUE(Status::OK().ok());
  Status c = Status::Corruption("bad crc at tx/00000000.tx:12");
  EXPECT_TRUE(c.IsCorruption());
  EXPECT_EQ(c.ToString(), "Corruption: bad crc at tx/00000000.tx:12");
  EXPECT_EQ(c.WithPrefix("open").message(), "open: bad crc at tx/00000000.tx:12");
  Status copy = c;
  EXPECT_EQ(copy.code(), StatusCode::kDataLoss);
  int v = 0;
  EXPECT_TRUE(UseHalf(4, &v).ok());
  EXPECT_EQ(v, 2);
  EXPECT_TRUE(UseHalf(3, &v).IsInvalidArgument());
}

TEST(ParallelRunnerTest, RunsTasksConcurrentlyAndReportsTheFirstError) {
  ParallelRunner r(2);
  std::atomic<int> arrived{0};
  // Each task waits for the others: this only finishes if all three run at once.
  auto rendezvous = [&arrived] {
    arrived++;
    while (arrived.load() < 3) std::this_thread::yield();
    return Status::OK();
  };
  for (int round = 0; round < 50; round++) {
    arrived = 0;
    EXPECT_TRUE(r.Run({rendezvous, rendezvous, rendezvous}).ok());
  }
  Status s = r.Run({[] { return Status::OK(); }, [] { return Status::IOError("second"); },
                    [] { return Status::IOError("third"); }});
  EXPECT_EQ(s.message(), "second");
  EXPECT_FALSE(r.Run({[] { return Status::OK(); }, [] { return Status::OK(); },
                      [] { return Status::OK(); }, [] { return Status::OK(); }})
                   .ok());
}

TEST(ParallelRunnerTest, FewerTasksThanWorkersUseTheCallerAndThatManyWorkers) {
  ParallelRunner r(3);
  const std::thread::id caller = std::this_thread::get_id();
  std::thread::id ran_on;
  EXPECT_TRUE(r.Run({[&] {
                 ran_on = std::this_thread::get_id();
                 return Status::OK();
               }}).ok());
  EXPECT_EQ(ran_on, caller);
  EXPECT_EQ(r.Run({[] { return Status::Corruption("only"); }}).message(), "only");
  // Two tasks: the caller and one worker, on different threads; repeated so
  // that a worker left with a stale task would show.
  for (int round = 0; round < 20; round++) {
    std::thread::id first, second;
    EXPECT_TRUE(r.Run({[&] {
                         first = std::this_thread::get_id();
                         return Status::OK();
                       },
                       [&] {
                         second = std::this_thread::get_id();
                         return Status::OK();
                       }})
                    .ok());
    EXPECT_EQ(first, caller);
    EXPECT_NE(second, caller);
  }
}

}  // namespace
}  // namespace immudb

TEST(DurationTextTest, PrintsAsGoDoes) {
  EXPECT_EQ(immudb::DurationText(0), "0s");
  EXPECT_EQ(immudb::DurationText(250), "250ms");
  EXPECT_EQ(immudb::DurationText(1500), "1.5s");
  EXPECT_EQ(immudb::DurationText(1250), "1.25s");
  EXPECT_EQ(immudb::DurationText(90 * 1000), "1m30s");
  EXPECT_EQ(immudb::DurationText(5400 * 1000), "1h30m0s");
  EXPECT_EQ(immudb::DurationText(int64_t{24} * 3600 * 1000), "24h0m0s");
  EXPECT_EQ(immudb::DurationText(-2000), "-2s");
}
