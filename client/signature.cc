#include "client/signature.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <fstream>
#include <sstream>

#include "client/tampering.h"

namespace immudb::client {
namespace {

void AppendBigEndian(std::string* out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

}  // namespace

std::string StateSigningPayload(const State& state) {
  std::string p;
  AppendBigEndian(&p, state.db.size(), 4);
  p += state.db;
  AppendBigEndian(&p, state.tx_id, 8);
  p.append(reinterpret_cast<const char*>(state.tx_hash.data()), state.tx_hash.size());
  return p;
}

Result<std::unique_ptr<SignatureVerifier>> SignatureVerifier::FromPem(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return Status::Internal("public key: out of memory");
  EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (key == nullptr) return Status::InvalidArgument("public key: not a PEM public key");
  char group[64] = {0};
  size_t len = 0;
  if (!EVP_PKEY_is_a(key, "EC") ||
      EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &len) !=
          1 ||
      std::string_view(group, len) != "prime256v1") {
    EVP_PKEY_free(key);
    return Status::InvalidArgument("public key: not an EC P-256 key");
  }
  return std::unique_ptr<SignatureVerifier>(new SignatureVerifier(key));
}

Result<std::unique_ptr<SignatureVerifier>> SignatureVerifier::FromFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot read public key file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return FromPem(text.str());
}

SignatureVerifier::~SignatureVerifier() { EVP_PKEY_free(key_); }

Status SignatureVerifier::Verify(const State& state) const {
  if (state.signature.empty()) {
    return Tampering("state of tx " + std::to_string(state.tx_id) + " is not signed");
  }
  const std::string payload = StateSigningPayload(state);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) return Status::Internal("signature check: out of memory");
  const bool ok =
      EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key_) == 1 &&
      EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(state.signature.data()),
                       state.signature.size(),
                       reinterpret_cast<const unsigned char*>(payload.data()), payload.size()) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) return Tampering("wrong signature on state of tx " + std::to_string(state.tx_id));
  return Status::OK();
}

}  // namespace immudb::client
