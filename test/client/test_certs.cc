#include "test_certs.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdio>
#include <fstream>

namespace immudb::client::testing {
namespace {

// Runs a shell command in `dir`; false with its output in *error on failure.
bool Sh(const std::string& dir, const std::string& cmd, std::string* error) {
  const std::string full = "cd '" + dir + "' && " + cmd + " 2>&1";
  FILE* p = popen(full.c_str(), "r");
  if (p == nullptr) {
    *error = "popen failed: " + cmd;
    return false;
  }
  std::string out;
  char buf[1024];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  if (pclose(p) != 0) {
    *error = cmd + ": " + out;
    return false;
  }
  return true;
}

constexpr char kKey[] = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";

bool MakeCa(const std::string& dir, const std::string& name, std::string* error) {
  return Sh(dir,
            std::string("openssl req -x509 ") + kKey + " -keyout " + name + ".key -out " + name +
                ".pem -days 2 -subj '/CN=" + name + "'",
            error);
}

bool MakeCert(const std::string& dir, const std::string& ca, const std::string& name,
              const std::string& cn, const std::string& ext, std::string* error) {
  std::ofstream(dir + "/" + name + ".ext") << ext << "\n";
  return Sh(dir,
            std::string("openssl req ") + kKey + " -keyout " + name + ".key -out " + name +
                ".csr -subj '/CN=" + cn + "'",
            error) &&
         Sh(dir,
            "openssl x509 -req -in " + name + ".csr -CA " + ca + ".pem -CAkey " + ca +
                ".key -set_serial 0x" + std::to_string(name.size()) + "01 -days 2 -out " + name +
                ".pem -extfile " + name + ".ext",
            error);
}

}  // namespace

bool MakeTestCerts(const std::string& dir, TestCerts* c, std::string* error) {
  if (!MakeCa(dir, "ca", error) || !MakeCa(dir, "other-ca", error) ||
      !MakeCert(dir, "ca", "server", "localhost",
                "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth", error) ||
      !MakeCert(dir, "ca", "client", "immuclient", "extendedKeyUsage=clientAuth", error) ||
      !MakeCert(dir, "other-ca", "other-client", "immuclient", "extendedKeyUsage=clientAuth",
                error)) {
    return false;
  }
  c->ca = dir + "/ca.pem";
  c->server_cert = dir + "/server.pem";
  c->server_key = dir + "/server.key";
  c->client_cert = dir + "/client.pem";
  c->client_key = dir + "/client.key";
  c->other_ca = dir + "/other-ca.pem";
  c->other_cert = dir + "/other-client.pem";
  c->other_key = dir + "/other-client.key";
  return true;
}

std::vector<std::string> MtlsServerFlags(const TestCerts& certs) {
  return {"--mtls",         "--certificate", certs.server_cert, "--pkey",
          certs.server_key, "--clientcas",   certs.ca};
}

bool WriteSigningKeyPair(const std::string& private_path, const std::string& public_path) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (key == nullptr) return false;
  FILE* priv = fopen(private_path.c_str(), "w");
  FILE* pub = fopen(public_path.c_str(), "w");
  bool ok = priv != nullptr && pub != nullptr &&
            PEM_write_PrivateKey(priv, key, nullptr, nullptr, 0, nullptr, nullptr) == 1 &&
            PEM_write_PUBKEY(pub, key) == 1;
  if (priv != nullptr) ok = fclose(priv) == 0 && ok;
  if (pub != nullptr) ok = fclose(pub) == 0 && ok;
  EVP_PKEY_free(key);
  return ok;
}

}  // namespace immudb::client::testing
