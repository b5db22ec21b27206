#include "server/state_signer.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "immudb/env.h"

namespace immudb::server {
namespace {

void PutU32(std::string* out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void PutU64(std::string* out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

constexpr size_t kUncompressedPointSize = 65;

}  // namespace

std::string StatePayload(std::string_view db, uint64_t tx_id, const Hash& tx_hash) {
  std::string out;
  out.reserve(4 + db.size() + 8 + tx_hash.size());
  PutU32(&out, static_cast<uint32_t>(db.size()));
  out.append(db);
  PutU64(&out, tx_id);
  out.append(reinterpret_cast<const char*>(tx_hash.data()), tx_hash.size());
  return out;
}

Result<std::unique_ptr<StateSigner>> StateSigner::FromPem(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return Status::Internal("signing key: out of memory");
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (key == nullptr) return Status::InvalidArgument("signing key: not a PEM private key");
  auto fail = [key](const char* why) {
    EVP_PKEY_free(key);
    return Status::InvalidArgument(std::string("signing key: ") + why);
  };
  if (!EVP_PKEY_is_a(key, "EC")) return fail("not an EC key");
  char group[64] = {0};
  size_t group_len = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                     &group_len) != 1 ||
      std::string_view(group, group_len) != "prime256v1") {
    return fail("not on curve P-256 (prime256v1)");
  }
  if (EVP_PKEY_set_utf8_string_param(key, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                     "uncompressed") != 1) {
    return fail("cannot select the uncompressed point format");
  }
  unsigned char pub[kUncompressedPointSize + 1];
  size_t pub_len = 0;
  if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub), &pub_len) !=
          1 ||
      pub_len != kUncompressedPointSize || pub[0] != 0x04) {
    return fail("cannot read the public point");
  }
  return std::unique_ptr<StateSigner>(
      new StateSigner(key, std::string(reinterpret_cast<char*>(pub), pub_len)));
}

Result<std::unique_ptr<StateSigner>> StateSigner::FromFile(const std::string& path) {
  auto pem = ReadFileToString(FileSystem::Default(), path);
  if (!pem.ok()) return pem.status().WithPrefix("signing key " + path);
  return FromPem(*pem);
}

StateSigner::~StateSigner() { EVP_PKEY_free(key_); }

Result<std::string> StateSigner::Sign(std::string_view db, uint64_t tx_id,
                                      const Hash& tx_hash) const {
  const std::string payload = StatePayload(db, tx_id, tx_hash);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) return Status::Internal("sign: out of memory");
  std::string sig;
  size_t len = 0;
  bool ok =
      EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key_) == 1 &&
      EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(payload.data()),
                     payload.size()) == 1;
  if (ok) {
    sig.resize(len);
    ok =
        EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                       reinterpret_cast<const unsigned char*>(payload.data()), payload.size()) == 1;
    sig.resize(len);
  }
  EVP_MD_CTX_free(ctx);
  if (!ok) return Status::Internal("sign: ECDSA signing failed");
  return sig;
}

}  // namespace immudb::server
