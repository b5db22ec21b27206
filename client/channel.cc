#include "client/channel.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <fstream>
#include <sstream>

namespace immudb::client {
namespace {

Result<std::string> ReadPem(const std::string& what, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot read " + what + " " + path);
  std::ostringstream buf;
  buf << in.rdbuf();
  if (buf.str().empty()) return Status::IOError(what + " " + path + " is empty");
  return buf.str();
}

Result<std::shared_ptr<grpc::ChannelCredentials>> Credentials(const TlsOptions& tls) {
  if (!tls.enabled) {
    if (!tls.ca_cert.empty() || !tls.client_cert.empty() || !tls.client_key.empty()) {
      return Status::InvalidArgument("TLS certificates are given but TLS is not enabled");
    }
    return grpc::InsecureChannelCredentials();
  }
  if (tls.client_cert.empty() != tls.client_key.empty()) {
    return Status::InvalidArgument("both the client certificate and its key must be given");
  }
  grpc::SslCredentialsOptions ssl;
  if (!tls.ca_cert.empty()) {
    IMMUDB_ASSIGN_OR_RETURN(ssl.pem_root_certs, ReadPem("CA certificate", tls.ca_cert));
  }
  if (!tls.client_cert.empty()) {
    IMMUDB_ASSIGN_OR_RETURN(ssl.pem_cert_chain, ReadPem("client certificate", tls.client_cert));
    IMMUDB_ASSIGN_OR_RETURN(ssl.pem_private_key, ReadPem("client key", tls.client_key));
  }
  return grpc::SslCredentials(ssl);
}

}  // namespace

Result<std::shared_ptr<grpc::Channel>> MakeChannel(const Options& options) {
  IMMUDB_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ChannelCredentials> creds,
                          Credentials(options.tls));
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options.max_recv_msg_size);
  if (options.tls.enabled && !options.tls.server_name.empty()) {
    args.SetSslTargetNameOverride(options.tls.server_name);
  }
  return grpc::CreateCustomChannel(options.address + ":" + std::to_string(options.port), creds,
                                   args);
}

}  // namespace immudb::client
