// The TLS settings immuadmin and immuclient share for reaching the server:
// with --mtls the CLI speaks TLS, verifies the server against --clientcas
// under --servername and presents --certificate / --pkey. Header-only.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "client/client.h"

namespace immudb::cli {

struct TlsFlags {
  bool mtls = false;
  std::string servername = "localhost";
  std::string certificate;
  std::string pkey;
  std::string clientcas;

  // Turns TLS on in `o` when --mtls was given.
  void ApplyTo(client::Options* o) const {
    if (!mtls) return;
    o->tls.enabled = true;
    o->tls.server_name = servername;
    o->tls.ca_cert = clientcas;
    o->tls.client_cert = certificate;
    o->tls.client_key = pkey;
  }
};

// Declares -m/--mtls, --servername, --certificate, --pkey and --clientcas on
// `app`, each also read from the variable <env_prefix>_<NAME>.
inline void AddTlsFlags(CLI::App& app, TlsFlags& t, const std::string& env_prefix) {
  app.add_flag("-m,--mtls", t.mtls, "connect with TLS, presenting a client certificate")
      ->envname(env_prefix + "_MTLS");
  app.add_option("--servername", t.servername, "name in the server's certificate")
      ->capture_default_str()
      ->envname(env_prefix + "_SERVERNAME");
  app.add_option("--certificate", t.certificate, "client certificate (PEM)")
      ->envname(env_prefix + "_CERTIFICATE");
  app.add_option("--pkey", t.pkey, "client private key (PEM)")->envname(env_prefix + "_PKEY");
  app.add_option("--clientcas", t.clientcas, "CA certificates of the server (PEM)")
      ->envname(env_prefix + "_CLIENTCAS");
}

}  // namespace immudb::cli
