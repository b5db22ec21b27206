// The lean gRPC client of immudb-load (--api h2): one thread drives every
// worker, each over a TCP connection of its own with one call in flight, and
// speaks gRPC's HTTP/2 protocol itself through libnghttp2 (framing, HPACK,
// flow control), without gRPC's client stack.
//
// A call is a POST of /immudb.schema.ImmuService/<Method> with content-type
// application/grpc, te: trailers, grpc-timeout and the login's
// "authorization: Bearer <token>", its body the worker's request as one
// length-prefixed message (LoadWorker::StartRaw). The reply must have HTTP
// status 200, grpc-status 0 and exactly one uncompressed message, which the
// worker parses and checks (LoadWorker::FinishRaw); otherwise the call fails
// with the reply's grpc-status and grpc-message, or with the code gRPC maps
// the HTTP status to, or UNAVAILABLE when the connection ends, or
// DEADLINE_EXCEEDED when the reply does not come within the timeout (the
// stream is then reset). A worker whose connection ends makes no more calls.
//
// Thread-compatible: RunH2 runs on the calling thread.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "bench/load_worker.h"

namespace immudb::bench {

struct H2Target {
  std::string address = "127.0.0.1";  // 127.0.0.1 or localhost.
  int port = 3322;
  std::string token;                         // Sent as "authorization: Bearer <token>".
  std::chrono::milliseconds timeout{10000};  // Per call, also sent as grpc-timeout.
  // After the last socket event, keep polling without blocking for this long
  // before the thread sleeps in epoll_wait (0: always block): a client that
  // is awake when a reply comes spares the server's send the wake-up.
  std::chrono::microseconds poll{0};
};

// Connects one connection per worker and runs every worker's calls until
// each one's run is over (LoadWorker::StartRaw returns false) or its
// connection ended. Returns "" or why the connections could not be set up.
std::string RunH2(const H2Target& target, const std::vector<LoadWorker*>& workers);

}  // namespace immudb::bench
