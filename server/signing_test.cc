// --signingKey: CurrentState and Verifiable* replies carry an ECDSA P-256
// signature over proofs.md §6.2's payload, checked here with OpenSSL.
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <fstream>

#include "immudb/hash.h"
#include "server/convert.h"
#include "server/state_signer.h"
#include "server/test_fixture.h"

namespace immudb::server {
namespace {

using google::protobuf::Empty;

// The payload written out byte by byte, independently of StatePayload.
std::string ExpectedPayload(const std::string& db, uint64_t tx, const std::string& hash) {
  std::string p;
  const uint32_t n = static_cast<uint32_t>(db.size());
  for (int i = 3; i >= 0; --i) p += static_cast<char>(n >> (8 * i));
  p += db;
  for (int i = 7; i >= 0; --i) p += static_cast<char>(tx >> (8 * i));
  return p + hash;
}

// True when `sig` is a valid DER ECDSA-SHA256 signature of `msg` under the
// uncompressed P-256 point `pub`.
bool VerifySignature(const std::string& pub, const std::string& msg, const std::string& sig) {
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
  OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub.data(), pub.size());
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* kctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
  EVP_PKEY* key = nullptr;
  bool ok = EVP_PKEY_fromdata_init(kctx) == 1 &&
            EVP_PKEY_fromdata(kctx, &key, EVP_PKEY_PUBLIC_KEY, params) == 1;
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  ok = ok && EVP_DigestVerifyInit(md, nullptr, EVP_sha256(), nullptr, key) == 1 &&
       EVP_DigestVerify(md, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                        reinterpret_cast<const unsigned char*>(msg.data()), msg.size()) == 1;
  EVP_MD_CTX_free(md);
  EVP_PKEY_free(key);
  EVP_PKEY_CTX_free(kctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  return ok;
}

// A fresh key pair: its SEC1 PEM and its 65-byte public point.
struct TestKey {
  std::string pem;
  std::string public_point;
};

TestKey NewKey(const char* curve, bool traditional) {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve);
  EXPECT_NE(key, nullptr);
  TestKey out;
  BIO* bio = BIO_new(BIO_s_mem());
  if (traditional) {
    PEM_write_bio_PrivateKey_traditional(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  } else {
    PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  out.pem.assign(data, static_cast<size_t>(len));
  BIO_free(bio);
  EVP_PKEY_set_utf8_string_param(key, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, "uncompressed");
  unsigned char pub[133];
  size_t pub_len = 0;
  EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub), &pub_len);
  out.public_point.assign(reinterpret_cast<char*>(pub), pub_len);
  EVP_PKEY_free(key);
  return out;
}

TEST(StateSignerTest, RejectsWhatIsNotAP256PrivateKey) {
  EXPECT_FALSE(StateSigner::FromPem("not a key").ok());
  EXPECT_FALSE(StateSigner::FromPem(NewKey("P-384", true).pem).ok());
  EXPECT_FALSE(StateSigner::FromFile("/nonexistent/key.pem").ok());
  auto pkcs8 = StateSigner::FromPem(NewKey("P-256", false).pem);
  EXPECT_TRUE(pkcs8.ok()) << pkcs8.status().ToString();
}

TEST(StateSignerTest, PayloadLayout) {
  Hash h;
  for (size_t i = 0; i < h.size(); ++i) h[i] = static_cast<uint8_t>(i);
  const std::string hash(reinterpret_cast<const char*>(h.data()), h.size());
  EXPECT_EQ(StatePayload("defaultdb", 0x0102030405060708ull, h),
            ExpectedPayload("defaultdb", 0x0102030405060708ull, hash));
  EXPECT_EQ(StatePayload("defaultdb", 1, h).size(), 4u + 9 + 8 + 32);
}

TEST(StateSignerTest, BadKeyFailsStartupBeforeTouchingTheDataDir) {
  const std::string dir = testing::TempDir() + "/immudb_badkey_" + std::to_string(getpid());
  const std::string key = dir + ".pem";
  std::ofstream(key) << NewKey("P-384", true).pem;
  ServerConfig c;
  c.dir = dir;
  c.signing_key = key;
  auto s = Server::Open(c);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("P-256"), std::string::npos) << s.status().ToString();
  EXPECT_FALSE(std::filesystem::exists(dir));
  std::filesystem::remove(key);
}

class SignedServerTest : public ServerFixture {
 protected:
  void SetUp() override {
    key_ = NewKey("P-256", true);
    key_path_ = testing::TempDir() + "/immudb_signing_" + std::to_string(getpid()) + ".pem";
    std::ofstream(key_path_) << key_.pem;
    ServerFixture::SetUp();
  }
  void TearDown() override {
    ServerFixture::TearDown();
    std::filesystem::remove(key_path_);
  }
  void Configure(ServerConfig* c) override { c->signing_key = key_path_; }

  TestKey key_;
  std::string key_path_;
};

TEST_F(SignedServerTest, CurrentStateIsSigned) {
  const std::string token = Login();
  ASSERT_TRUE(SetKey(token, "k", "v").ok());
  schema::ImmutableState st;
  ASSERT_TRUE(stub_->CurrentState(Ctx(token).get(), Empty(), &st).ok());
  ASSERT_TRUE(st.has_signature());
  EXPECT_EQ(st.signature().publickey(), key_.public_point);
  ASSERT_EQ(st.signature().publickey().size(), 65u);
  EXPECT_EQ(st.signature().publickey()[0], '\x04');
  const std::string payload = ExpectedPayload(st.db(), st.txid(), st.txhash());
  EXPECT_TRUE(VerifySignature(key_.public_point, payload, st.signature().signature()));
  // A different tx id must not verify.
  EXPECT_FALSE(VerifySignature(key_.public_point, ExpectedPayload(st.db(), 2, st.txhash()),
                               st.signature().signature()));
}

TEST_F(SignedServerTest, VerifiableRepliesSignTheirTargetState) {
  const std::string token = Login();
  schema::VerifiableSetRequest vs;
  auto* kv = vs.mutable_setrequest()->add_kvs();
  kv->set_key("k");
  kv->set_value("v");
  schema::VerifiableTx vtx;
  ASSERT_TRUE(stub_->VerifiableSet(Ctx(token).get(), vs, &vtx).ok());
  auto check = [&](const schema::VerifiableTx& v) {
    auto target = FromProto(v.dualproof().targettxheader());
    ASSERT_TRUE(target.ok());
    auto alh = target->Alh();
    ASSERT_TRUE(alh.ok());
    const std::string payload = ExpectedPayload(
        "defaultdb", target->id, std::string(reinterpret_cast<const char*>(alh->data()), 32));
    ASSERT_TRUE(v.has_signature());
    EXPECT_TRUE(VerifySignature(v.signature().publickey(), payload, v.signature().signature()));
  };
  check(vtx);

  schema::VerifiableGetRequest vg;
  vg.mutable_keyrequest()->set_key("k");
  vg.set_provesincetx(1);
  schema::VerifiableEntry ve;
  ASSERT_TRUE(stub_->VerifiableGet(Ctx(token).get(), vg, &ve).ok());
  check(ve.verifiabletx());

  schema::VerifiableTxRequest vt;
  vt.set_tx(1);
  vt.set_provesincetx(1);
  ASSERT_TRUE(stub_->VerifiableTxById(Ctx(token).get(), vt, &vtx).ok());
  check(vtx);

  schema::VerifiableZAddRequest vz;
  vz.mutable_zaddrequest()->set_set("s");
  vz.mutable_zaddrequest()->set_key("k");
  ASSERT_TRUE(stub_->VerifiableZAdd(Ctx(token).get(), vz, &vtx).ok());
  check(vtx);

  schema::VerifiableReferenceRequest vr;
  vr.mutable_referencerequest()->set_key("r");
  vr.mutable_referencerequest()->set_referencedkey("k");
  ASSERT_TRUE(stub_->VerifiableSetReference(Ctx(token).get(), vr, &vtx).ok());
  check(vtx);
}

class UnsignedServerTest : public ServerFixture {};

TEST_F(UnsignedServerTest, NoSignatureWithoutAKey) {
  const std::string token = Login();
  schema::ImmutableState st;
  ASSERT_TRUE(stub_->CurrentState(Ctx(token).get(), Empty(), &st).ok());
  EXPECT_FALSE(st.has_signature());
  schema::VerifiableSetRequest vs;
  vs.mutable_setrequest()->add_kvs()->set_key("k");
  schema::VerifiableTx vtx;
  ASSERT_TRUE(stub_->VerifiableSet(Ctx(token).get(), vs, &vtx).ok());
  EXPECT_FALSE(vtx.has_signature());
}

}  // namespace
}  // namespace immudb::server
