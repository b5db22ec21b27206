// Test certificates made with the openssl command line: a CA with a server
// certificate (for "localhost" and 127.0.0.1) and a client certificate, and a
// second, unrelated CA with a client certificate of its own. For TLS tests.
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

}  // namespace immudb::client::testing
