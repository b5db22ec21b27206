// Test certificates made with the openssl command line: a CA with a server
// certificate (for "localhost" and 127.0.0.1) and a client certificate, and a
// second, unrelated CA with a client certificate of its own. For TLS tests.
// Also state signing keys.
#pragma once

#include <string>
#include <vector>

namespace immudb::client::testing {

struct TestCerts {
  std::string ca;           // ca.pem
  std::string server_cert;  // server.pem, signed by ca
  std::string server_key;   // server.key
  std::string client_cert;  // client.pem, signed by ca
  std::string client_key;   // client.key
  std::string other_ca;     // other-ca.pem
  std::string other_cert;   // other-client.pem, signed by other_ca
  std::string other_key;    // other-client.key
};

// Writes the files into `dir` (which must exist). False with the openssl
// output in *error when a step fails.
bool MakeTestCerts(const std::string& dir, TestCerts* certs, std::string* error);

// The immudb flags of a server that requires client certificates signed by
// `certs.ca` and presents `certs.server_cert`.
std::vector<std::string> MtlsServerFlags(const TestCerts& certs);

// Writes a fresh ECDSA P-256 key pair, as immudb's --signingKey and the
// clients' --server-signing-pub-key take it: the private key (PKCS#8 PEM) and
// the public key (PKIX PEM). False when a file cannot be written.
bool WriteSigningKeyPair(const std::string& private_path, const std::string& public_path);

}  // namespace immudb::client::testing
