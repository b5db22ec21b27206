// The gRPC channel a Client talks over: plain TCP, TLS, or TLS with a client
// certificate (mTLS), as Options::tls says.
#pragma once

#include <grpcpp/channel.h>

#include <memory>

#include "client/client.h"
#include "immudb/result.h"

namespace immudb::client {

// A channel to options.address:options.port (connections are made lazily).
// Reads the PEM files named in options.tls: InvalidArgument when only one of
// client_cert / client_key is set, or when TLS files are given while TLS is
// off; IOError (naming the file) when a file cannot be read or is empty.
Result<std::shared_ptr<grpc::Channel>> MakeChannel(const Options& options);

}  // namespace immudb::client
