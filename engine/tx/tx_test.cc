#include "immudb/tx.h"

#include <gtest/gtest.h>

#include <bit>
#include <cstring>
#include <random>
#include <string>

#include "testutil/reference_aht.h"
#include "util/coding.h"

#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/sha.h>

namespace immudb {
namespace {

std::string Bytes(std::string_view hex) {
  std::string out;
  EXPECT_TRUE(FromHex(hex, &out)) << hex;
  return out;
}

Hash H(std::string_view hex) {
  Hash h{};
  EXPECT_TRUE(HashFromHex(hex, &h)) << hex;
  return h;
}

std::string Prefixed(char prefix, std::string_view s) {
  return std::string(1, prefix) + std::string(s);
}

std::string HexOf(const Result<Hash>& r) {
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? ToHex(*r) : "";
}

// ---- KV metadata and entry digests (proofs.md §1, vectors E1-E5) ----

TEST(EntryDigestTest, E1PlainSet) {
  const std::string key = Prefixed('\0', "key1");
  const std::string value = Prefixed('\0', "value1");
  EXPECT_EQ(ToHex(key), "006b657931");
  EXPECT_EQ(ToHex(value), "0076616c756531");
  const Hash hval = Sha256Of(value);
  EXPECT_EQ(ToHex(hval), "d7da3a95c85f6573d3e611bac5be34c478a4b7710e9eb0955ab99238f54ccb45");
  EXPECT_EQ(HexOf(EntryDigest(0, key, "", hval)),
            "91b6057a9072a58ab02d9a193a18ff2bf5bc92b9a6b897ecaf9f8223557b7e90");
  EXPECT_EQ(HexOf(EntryDigest(1, key, "", hval)),
            "00eb1b3b3a9fc14cb200eb0750febd87aa1b24c09a4e197ec456caad53c2188a");
}

TEST(EntryDigestTest, E2ExpiringNonIndexable) {
  KVMetadata md;
  md.expires_at = 1700000000;
  md.non_indexable = true;
  EXPECT_EQ(ToHex(md.Encode()), "01000000006553f10002");
  TxEntry e;
  e.key = Prefixed('\0', "key1");
  e.md = md;
  e.hval = Sha256Of(Prefixed('\0', "value1"));
  EXPECT_EQ(HexOf(e.Digest(1)), "95284405acef08315d17ff9877a637cc03a42bbef0fa5ca93242543a353a770d");
  // Version 0 cannot carry metadata.
  EXPECT_TRUE(e.Digest(0).status().IsInvalidArgument());
}

TEST(EntryDigestTest, E3Delete) {
  KVMetadata md;
  md.deleted = true;
  EXPECT_EQ(ToHex(md.Encode()), "00");
  EXPECT_EQ(HexOf(EntryDigest(1, Prefixed('\0', "key1"), md.Encode(), EmptyHash())),
            "33912627fb487cb225fc16d07949adeeab8514e7da9093e9b20841c1601e04f1");
}

TEST(EntryDigestTest, E4Reference) {
  const std::string key = Prefixed('\0', "ref1");
  EXPECT_EQ(ToHex(key), "0072656631");
  for (uint64_t at_tx : {0, 5}) {
    std::string value(1, '\x01');
    AppendU64BE(&value, at_tx);
    value += Prefixed('\0', "key1");
    const std::string want_value =
        at_tx == 0 ? "010000000000000000006b657931" : "010000000000000005006b657931";
    EXPECT_EQ(ToHex(value), want_value);
    const std::string want_digest =
        at_tx == 0 ? "030be547929fd14c1278019903d788f1966b2e5a4def4ed0cc529594f72d40c8"
                   : "2f357b0903181559b0edcd52e47b58aadea76ffca1d6264bb968f60b8060fb92";
    EXPECT_EQ(HexOf(EntryDigest(1, key, "", Sha256Of(value))), want_digest);
  }
}

TEST(EntryDigestTest, E5ZAdd) {
  const std::string set = "set1";
  const std::string ek = Prefixed('\0', "key1");
  std::string key(1, '\x01');
  AppendU64BE(&key, set.size());
  key += set;
  AppendU64BE(&key, std::bit_cast<uint64_t>(1.5));
  AppendU64BE(&key, ek.size());
  key += ek;
  AppendU64BE(&key, 0);
  EXPECT_EQ(ToHex(key),
            "010000000000000004736574313ff80000000000000000000000000005006b6579310000000000000000");
  EXPECT_EQ(HexOf(EntryDigest(1, key, "", EmptyHash())),
            "520c86e1f8bfd00af1103855b7eea924222829cc57ade7e9ff68d682cb7e205f");
}

TEST(EntryDigestTest, UnsupportedVersionIsInvalidArgument) {
  EXPECT_TRUE(EntryDigest(2, "k", "", EmptyHash()).status().IsInvalidArgument());
  EXPECT_TRUE(
      EntryDigest(1, std::string(70000, 'k'), "", EmptyHash()).status().IsInvalidArgument());
}

TEST(KVMetadataTest, RoundTripsEveryCombination) {
  for (int mask = 0; mask < 8; mask++) {
    KVMetadata md;
    md.deleted = mask & 1;
    if (mask & 2) md.expires_at = -12345;  // Negative: two's complement round trip.
    md.non_indexable = mask & 4;
    const std::string enc = md.Encode();
    EXPECT_LE(enc.size(), kMaxKVMetadataLen);
    EXPECT_EQ(md.empty(), enc.empty());
    Result<KVMetadata> dec = KVMetadata::Decode(enc);
    ASSERT_TRUE(dec.ok()) << dec.status().ToString();
    EXPECT_EQ(*dec, md);
  }
}

TEST(KVMetadataTest, DecodeRejectsMalformedBytes) {
  EXPECT_TRUE(KVMetadata::Decode(Bytes("03")).status().IsCorruption());          // Unknown.
  EXPECT_TRUE(KVMetadata::Decode(Bytes("0000")).status().IsCorruption());        // Repeat.
  EXPECT_TRUE(KVMetadata::Decode(Bytes("0200")).status().IsCorruption());        // Order.
  EXPECT_TRUE(KVMetadata::Decode(Bytes("0100000000")).status().IsCorruption());  // Short.
  EXPECT_TRUE(KVMetadata::Decode(Bytes("01")).status().IsCorruption());          // Short.
  EXPECT_TRUE(KVMetadata::Decode(Bytes("00ff")).status().IsCorruption());
  EXPECT_TRUE(KVMetadata::Decode("").ok());
}

// ---- Headers (proofs.md §3, chains C1 and C0) ----

struct C1Row {
  const char* eh;
  const char* bl_root;
  const char* inner;
  const char* alh;
};

constexpr C1Row kC1[] = {
    {"bc98df1850f331c06a3bd279098323ce2d6c0e231e91cf7f6068d5e0a79273a3",
     "0000000000000000000000000000000000000000000000000000000000000000",
     "f3a5d51c140d000e07a377049c0c1e355ea8fd7785f22783623c40f94f5cf8a1",
     "f628a81aeefd34bfa6f7d1f9deadbc94dc640a20611160b5ea5ee0215fb6a9d5"},
    {"f273b2d86f306b36c1660412aa23a4ac023fae9539df574cf59acf35ffcd27eb",
     "85b5eb6779ea2e1baeef13bfd0642b08fce5534d4cad4fb3ed05ae0d68a2510a",
     "af445902aaaf023431cdda4ef91241c33b569113e218b5350e46e702f3fab3cc",
     "8ed1bed5cc1cb6765cd4653d1662d8b9ea2c3f5c9dae8c23f2499fc8a8cf3cac"},
    {"8562f3a5bad3d2f859d1b742cd6943346f6ce1e14f87758b924b5b1ffed8fe0d",
     "6f5214d86af66a3196d21f67c5f73bcaa435e4ff307f598e492af075d9954056",
     "e10ac66def144c8fb68832002da2611489822b4519560e7e5533750864621927",
     "0508b98f2f2fa521c41589afcd83627b0b99c073be7e118dfbd3ae47e6d8f87d"},
    {"321c04ba4ad03503cb8687b3e08b1b015ca02d6c1b4675db713eff9347671cc2",
     "f57081b2554a62f330036a053768638f80bd45fb49c4855898a358fc39e8a615",
     "5a257ab2e0df45c6017e3abb594de5f173725fe14c42b68fd7c7012d699aa823",
     "1d449abb16e71bbf5729e12ea75ebc3e56835d89b115cf99d986241b88795fb7"},
    {"862c0c86a92436488d3a5f5a50792562e60d619c27f9287c4ca271d5763adc32",
     "e8f6722a253741dda29f5263bf5b78ebfd8f90c1c22a2a5adb60f7b11e36fbbb",
     "9ae44237a969a6e7a0f510efd07f792ab15024e68dc92bca716a0c805d573330",
     "1f589c0abcf9ebebb3508e3f41bce9cc3a2450a9fd479eef81cce88496d7b95f"},
    {"b9bd9774d8d3daae1e80cb280423017c5e4e0e2e7e7c44b8ae9a836e6136ddb2",
     "d6a026e50099259d31dd81810850edda43b9afe8a3ba982fbcffb4c14c0d7f2b",
     "7aea12f12c7af1bcd83dc3bc17ca9645c4e3751345a206b015255d39988d07f7",
     "d3b97626555f7940055f82aca9c07c856a16fe49d66f99af9bed5feff4b7d3a8"},
    {"c912c25a5bcaae840fe56bc237e8721cdf60a71810e81d7d7868dff233ca6c45",
     "327464a4a67038dd6e98c89775cfc3774eee6fc43436c241a02fdb2a61e4f0c2",
     "edd6eba7198bbfc683e0caa3b21d7dfd6c5174b23fbae0b7db055cd28e5d82e0",
     "b521e827ef5ecf178543d57240dcb330ce5299c1b1109d899081ab066aab7831"},
    {"476d6528564d09cdc972b14a16fb1788976047667e0072813cafb268d00b44a6",
     "7bfaf17d1285dae3be68f386e4f86aac5f9c5a059862e49a1dca5927b694c740",
     "1bfbc57eb71d2f3aa1ef44143bd6f2ed4df2066d25c894f89f5deccfc2017014",
     "7bf8ebe099b5ba8bf93e4089ec803ac79a02f68ce6a778552051d343eab9f666"},
};

constexpr const char* kC0[][2] = {
    // {Eh, Alh}
    {"7326df877a757811dc76b834bbff3479d848aa4f8c321a29e89a20e740079ed3",
     "f80d9e736d8adc608b7471939e2a2e3ed4b64981faf7c9cfa3c6f6a3c086147f"},
    {"50c6e65253013c1f3642f9bb43febbe459f451db6a6b3b97847cf8124afe5a01",
     "77548a9fb5ec56560ab0bd12375c5c01f6b4b99c5eab14a2c65b02d5aefd857a"},
    {"ed3a68d8a4ffc203776f8b7d0c299d5aa21552d24acf9889134e41902537fbba",
     "7df8a0caba7f0d555531c80facfd1cff2b8b85574b38c7e19b558953c61dab2a"},
    {"4ee87b2ed66c058cb3268b311ef8482e05eef76a8889ca773ebba3ff9b4272e9",
     "ca5b12fe2f8ef350ac056a82c73996489efe129b75f83f41007e2eca199edc9e"},
    {"5fa4cfca5a85f5b7762a728ff205af54c7f0ff663d381682bb717090faafb990",
     "d5f97c7ba24f3d486f2d54d91279122f24c44e7307528c1ea371e008c130ff62"},
    {"22dbad89547c07a77fad5096d9a61307b5f1562795452885fba2eb558c8266da",
     "4f739a23137249f4f503f245270b9c9a7a7192cad2efb86293a068b035ce1bd1"},
    {"98700aa5c76cc98391fd7cca1b29fe7b1faca999cdd1607d7d460e53a23d8807",
     "401560bde037a4aadbe5cd5c6cf61ca77d60ebb2e3a6e81f575122b55fbdbd70"},
    {"4199740cbfb90a6b7528c1930c76ace7df3a2fbbb0cccb622a83e806459a1e89",
     "596b85e7ad484ccddd010112321f27168c5a467bc0524103aeb5e7797e5ea48d"},
};

// Builds the chain by hand, independently of testutil::BuildSpecChain, so the
// test also pins the chain builder the other tests rely on.
TEST(TxHeaderTest, C1ChainMatchesSpecTable) {
  Hash prev = EmptyHash();
  std::vector<Hash> alhs;
  for (uint64_t i = 1; i <= 8; i++) {
    const C1Row& row = kC1[i - 1];
    std::vector<TxEntry> entries = testutil::SpecChainEntries(i);
    ASSERT_EQ(entries.size(), i % 3 + 1);
    TxHeader hdr;
    hdr.id = i;
    hdr.ts = 1700000000 + static_cast<int64_t>(i);
    hdr.version = 1;
    hdr.nentries = static_cast<uint32_t>(entries.size());
    EXPECT_EQ(HexOf(ComputeEh(1, entries)), row.eh) << "tx " << i;
    hdr.eh = *ComputeEh(1, entries);
    hdr.bl_tx_id = i - 1;
    testutil::ReferenceAht aht(alhs);
    hdr.bl_root = aht.Root(i - 1);
    EXPECT_EQ(ToHex(hdr.bl_root), row.bl_root) << "tx " << i;
    hdr.prev_alh = prev;
    EXPECT_EQ(HexOf(hdr.Inner()), row.inner) << "tx " << i;
    EXPECT_EQ(HexOf(hdr.Alh()), row.alh) << "tx " << i;
    prev = *hdr.Alh();
    EXPECT_EQ(AlhFrom(i, hdr.prev_alh, *hdr.Inner()), prev);
    alhs.push_back(prev);
  }
}

TEST(TxHeaderTest, C1ChainBuilderMatchesSpecTable) {
  Result<testutil::ReferenceChain> chain = testutil::BuildSpecChain(1);
  ASSERT_TRUE(chain.ok());
  ASSERT_EQ(chain->size(), 8u);
  for (uint64_t i = 1; i <= 8; i++) {
    EXPECT_EQ(ToHex(chain->Header(i).eh), kC1[i - 1].eh);
    EXPECT_EQ(ToHex(chain->Header(i).bl_root), kC1[i - 1].bl_root);
    EXPECT_EQ(ToHex(chain->Inner(i)), kC1[i - 1].inner);
    EXPECT_EQ(ToHex(chain->Alh(i)), kC1[i - 1].alh);
  }
  EXPECT_EQ(chain->Header(1).prev_alh, EmptyHash());
}

TEST(TxHeaderTest, C0ChainMatchesSpecTable) {
  Result<testutil::ReferenceChain> chain = testutil::BuildSpecChain(0);
  ASSERT_TRUE(chain.ok());
  for (uint64_t i = 1; i <= 8; i++) {
    EXPECT_EQ(ToHex(chain->Header(i).eh), kC0[i - 1][0]) << "tx " << i;
    EXPECT_EQ(ToHex(chain->Alh(i)), kC0[i - 1][1]) << "tx " << i;
  }
  EXPECT_EQ(ToHex(chain->Inner(1)),
            "be65e00547ec154b1a3d9b1c355293b9df4ba7213b9815611414a1e81cf7bdae");
  EXPECT_EQ(ToHex(chain->Header(2).bl_root),
            "d0bc5ccd6fef8e611175311989594e7d35905842ca25b62725d6a125460c53b7");
}

TEST(TxHeaderTest, Version0InnerEqualsV10Layout) {
  // proofs.md §3.5: u16(0) || u16(n) equals the v1.0 u32(n).
  TxHeader hdr;
  hdr.ts = 1700000001;
  hdr.nentries = 300;
  hdr.eh = Sha256Of("eh");
  hdr.bl_tx_id = 7;
  hdr.bl_root = Sha256Of("root");
  std::string v10;
  AppendU64BE(&v10, static_cast<uint64_t>(hdr.ts));
  AppendU32BE(&v10, hdr.nentries);
  v10.append(reinterpret_cast<const char*>(hdr.eh.data()), 32);
  AppendU64BE(&v10, hdr.bl_tx_id);
  v10.append(reinterpret_cast<const char*>(hdr.bl_root.data()), 32);
  EXPECT_EQ(HexOf(hdr.Inner()), ToHex(Sha256Of(v10)));
}

TEST(TxHeaderTest, Version1InnerLayout) {
  TxHeader hdr;
  hdr.ts = -2;  // Two's complement on the wire.
  hdr.version = 1;
  hdr.nentries = 70000;
  hdr.eh = Sha256Of("eh");
  hdr.bl_tx_id = 9;
  hdr.bl_root = Sha256Of("root");
  std::string in;
  AppendU64BE(&in, static_cast<uint64_t>(hdr.ts));
  AppendU16BE(&in, 1);
  AppendU16BE(&in, 0);
  AppendU32BE(&in, hdr.nentries);
  in.append(reinterpret_cast<const char*>(hdr.eh.data()), 32);
  AppendU64BE(&in, hdr.bl_tx_id);
  in.append(reinterpret_cast<const char*>(hdr.bl_root.data()), 32);
  ASSERT_EQ(in.size(), 88u);
  EXPECT_EQ(HexOf(hdr.Inner()), ToHex(Sha256Of(in)));
}

TEST(TxHeaderTest, UnsupportedHeadersAreInvalidArgument) {
  TxHeader hdr;
  hdr.nentries = 65536;
  EXPECT_TRUE(hdr.Inner().status().IsInvalidArgument());
  EXPECT_TRUE(hdr.Alh().status().IsInvalidArgument());
  hdr.nentries = 65535;
  EXPECT_TRUE(hdr.Inner().ok());
  hdr.version = 2;
  EXPECT_TRUE(hdr.Inner().status().IsInvalidArgument());
}

// InnerAndAlh (SHA-NI in registers where available) against Inner() and
// AlhFrom() on random headers of both versions, with every byte of the
// hashed fields random.
TEST(TxHeaderTest, InnerAndAlhMatchInnerThenAlhFrom) {
  std::mt19937_64 rng(5);
  auto random_hash = [&rng] {
    Hash h;
    for (auto& b : h) b = static_cast<uint8_t>(rng());
    return h;
  };
  for (int i = 0; i < 200; i++) {
    TxHeader hdr;
    hdr.version = static_cast<uint16_t>(i % 2);
    hdr.id = rng();
    hdr.ts = static_cast<int64_t>(rng());
    hdr.nentries = static_cast<uint32_t>(rng() % (hdr.version == 0 ? 65536 : 1u << 31));
    hdr.eh = random_hash();
    hdr.bl_tx_id = rng();
    hdr.bl_root = random_hash();
    hdr.prev_alh = random_hash();
    Hash inner, alh;
    ASSERT_TRUE(hdr.InnerAndAlh(&inner, &alh).ok());
    ASSERT_EQ(HexOf(hdr.Inner()), ToHex(inner)) << "header " << i;
    ASSERT_EQ(ToHex(AlhFrom(hdr.id, hdr.prev_alh, inner)), ToHex(alh)) << "header " << i;
  }
  TxHeader bad;
  bad.nentries = 65536;
  Hash inner, alh;
  EXPECT_TRUE(bad.InnerAndAlh(&inner, &alh).IsInvalidArgument());
  bad.version = 2;
  EXPECT_TRUE(bad.InnerAndAlh(&inner, &alh).IsInvalidArgument());
}

Hash OpenSslSha256(std::string_view s) {
  Hash h;
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), h.data());
  return h;
}

std::string AsBytes(const Hash& h) {
  return std::string(reinterpret_cast<const char*>(h.data()), 32);
}

// EntryHashes (fused in registers on SHA-NI for short digest inputs) against
// the formats of proofs.md §1.2, §1.4 and §2.1 hashed with OpenSSL, and
// against Sha256Of, EntryDigest and LeafHash: every key length up to past
// the fused limit and value lengths across the 55/64-byte block bounds, so
// the digest input ends on each side of them, both header versions, with
// and without KV metadata.
TEST(EntryHashesTest, MatchOpenSslAndTheGeneralPath) {
  std::mt19937_64 rng(11);
  auto random_bytes = [&rng](size_t n) {
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    return s;
  };
  std::vector<size_t> value_lens;
  for (size_t n = 0; n <= 200; n++) value_lens.push_back(n);
  for (size_t n : {255, 256, 257, 1000, 4096 + 17}) value_lens.push_back(n);
  int checked = 0;
  for (uint16_t version = 0; version <= 1; version++) {
    for (size_t klen = 1; klen <= 120; klen++) {
      for (int round = 0; round < 12; round++) {
        const std::string key = random_bytes(klen);
        // Every value length with each version, next to every other key length.
        const std::string value =
            random_bytes(value_lens[(klen * 12 + static_cast<size_t>(round)) % value_lens.size()]);
        KVMetadata md;
        if (version == 1) {
          const unsigned bits = static_cast<unsigned>(rng() % 8);
          md.deleted = bits & 1;
          if (bits & 2) md.expires_at = static_cast<int64_t>(rng());
          md.non_indexable = bits & 4;
        }
        const std::string md_bytes = md.Encode();
        // The digest input as the spec lays it out.
        const Hash want_hval = OpenSslSha256(value);
        std::string in;
        if (version == 1) {
          AppendU16BE(&in, static_cast<uint16_t>(md_bytes.size()));
          in += md_bytes;
          AppendU16BE(&in, static_cast<uint16_t>(key.size()));
        }
        in += key;
        in += AsBytes(want_hval);
        const Hash want_digest = OpenSslSha256(in);
        const Hash want_leaf = OpenSslSha256(std::string(1, '\0') + AsBytes(want_digest));

        Hash hval, digest, leaf;
        ASSERT_TRUE(EntryHashes(version, key, md, value, &hval, &digest, &leaf).ok());
        const std::string what = "v" + std::to_string(version) + " key " + std::to_string(klen) +
                                 " md " + std::to_string(md_bytes.size()) + " value " +
                                 std::to_string(value.size());
        ASSERT_EQ(ToHex(want_hval), ToHex(hval)) << what;
        ASSERT_EQ(ToHex(want_digest), ToHex(digest)) << what;
        ASSERT_EQ(ToHex(want_leaf), ToHex(leaf)) << what;
        ASSERT_EQ(ToHex(Sha256Of(value)), ToHex(hval)) << what;
        ASSERT_EQ(HexOf(EntryDigest(version, key, md_bytes, hval)), ToHex(digest)) << what;
        ASSERT_EQ(ToHex(LeafHash(digest)), ToHex(leaf)) << what;
        // Without the leaf: the same value hash and digest.
        Hash hval2, digest2;
        ASSERT_TRUE(EntryHashes(version, key, md, value, &hval2, &digest2, nullptr).ok());
        ASSERT_EQ(hval, hval2) << what;
        ASSERT_EQ(digest, digest2) << what;
        checked++;
      }
    }
  }
  EXPECT_EQ(checked, 2 * 120 * 12);
}

TEST(EntryHashesTest, RejectsWhatEntryDigestRejects) {
  Hash hval, digest, leaf;
  KVMetadata md;
  md.deleted = true;
  EXPECT_TRUE(EntryHashes(0, "k", md, "v", &hval, &digest, &leaf).IsInvalidArgument());
  EXPECT_TRUE(EntryHashes(2, "k", {}, "v", &hval, &digest, &leaf).IsInvalidArgument());
  EXPECT_TRUE(
      EntryHashes(1, std::string(70000, 'k'), {}, "v", &hval, &digest, &leaf).IsInvalidArgument());
  EXPECT_TRUE(EntryHashes(1, "k", md, "v", &hval, &digest, &leaf).ok());
}

TEST(ComputeEhTest, EmptyAndMetadataCases) {
  EXPECT_EQ(HexOf(ComputeEh(1, {})), ToHex(EmptyHash()));
  TxEntry e;
  e.key = "k";
  e.md.deleted = true;
  EXPECT_TRUE(ComputeEh(0, {e}).status().IsInvalidArgument());
  EXPECT_TRUE(ComputeEh(1, {e}).ok());
}

// proofs.md §6.2 / §8 S1: u32(len(db)) || db || u64(txId) || txHash.
TEST(StatePayloadTest, S1SigningPayload) {
  std::string payload;
  const std::string db = "defaultdb";
  AppendU32BE(&payload, static_cast<uint32_t>(db.size()));
  payload += db;
  AppendU64BE(&payload, 8);
  const Hash alh8 = H(kC1[7].alh);
  payload.append(reinterpret_cast<const char*>(alh8.data()), 32);
  EXPECT_EQ(ToHex(payload),
            "0000000964656661756c74646200000000000000087bf8ebe099b5ba8bf93e4089ec803ac79a02f68ce6"
            "a778552051d343eab9f666");
  EXPECT_EQ(ToHex(Sha256Of(payload)),
            "50eb3f56b39bd576eb66257f03a3a011aed3a2e4b408a084a501c056a7e041e9");
}

}  // namespace
}  // namespace immudb
