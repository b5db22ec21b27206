// StateSigner: signs database states with the server's EC P-256 key
// (--signingKey; proofs.md §6.2/§6.3). The signed payload is
//   u32(len(db)) ‖ db ‖ u64(txId) ‖ txHash   (big-endian numbers)
// hashed with SHA-256 and signed with ECDSA; the signature is DER
// SEQUENCE{r, s} and the public key the 65-byte uncompressed point
// 0x04 ‖ X ‖ Y. Thread-safe: Sign may be called concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "immudb/hash.h"
#include "immudb/result.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace immudb::server {

// The bytes that are signed for (db, tx_id, tx_hash).
std::string StatePayload(std::string_view db, uint64_t tx_id, const Hash& tx_hash);

class StateSigner {
 public:
  // Loads a PEM private key ("EC PRIVATE KEY" or PKCS#8). InvalidArgument if
  // the text is not a PEM private key or the key is not EC on P-256.
  static Result<std::unique_ptr<StateSigner>> FromPem(std::string_view pem);
  // Reads `path` and calls FromPem; IOError/NotFound if it cannot be read.
  static Result<std::unique_ptr<StateSigner>> FromFile(const std::string& path);
  ~StateSigner();
  StateSigner(const StateSigner&) = delete;
  StateSigner& operator=(const StateSigner&) = delete;

  // DER signature of StatePayload(db, tx_id, tx_hash). Internal on an
  // OpenSSL failure.
  Result<std::string> Sign(std::string_view db, uint64_t tx_id, const Hash& tx_hash) const;
  // 65 bytes: 0x04 ‖ X ‖ Y.
  const std::string& public_key() const { return public_key_; }

 private:
  StateSigner(EVP_PKEY* key, std::string public_key)
      : key_(key), public_key_(std::move(public_key)) {}

  EVP_PKEY* const key_;  // Owned.
  const std::string public_key_;
};

}  // namespace immudb::server
