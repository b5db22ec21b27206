// SignatureVerifier: checks the server's ECDSA P-256 signature over a state
// (proofs.md §6.2): SHA256withECDSA over
//   u32(len(db)) || db || u64(tx_id) || tx_hash   (big-endian integers),
// the signature being DER SEQUENCE { r, s }. Immutable after construction;
// thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "client/types.h"
#include "immudb/result.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace immudb::client {

// The bytes the server signs for `state` (its signature field is ignored).
std::string StateSigningPayload(const State& state);

class SignatureVerifier {
 public:
  // Loads a PEM public key (PKIX "PUBLIC KEY"). InvalidArgument if the text is
  // not a PEM public key or the key is not EC P-256.
  static Result<std::unique_ptr<SignatureVerifier>> FromPem(std::string_view pem);
  // Reads `path` and calls FromPem; IOError if the file cannot be read.
  static Result<std::unique_ptr<SignatureVerifier>> FromFile(const std::string& path);

  ~SignatureVerifier();
  SignatureVerifier(const SignatureVerifier&) = delete;
  SignatureVerifier& operator=(const SignatureVerifier&) = delete;

  // OK when state.signature is a valid signature of the state's payload;
  // a tampering error (tampering.h) when it is missing or wrong.
  Status Verify(const State& state) const;

 private:
  explicit SignatureVerifier(EVP_PKEY* key) : key_(key) {}
  EVP_PKEY* key_;  // Owned.
};

}  // namespace immudb::client
