// HTTP servers (cpp-httplib) that idle, slow or garbage connections cannot
// starve, for the REST and metrics ports.
//
// cpp-httplib's own connection handling serves each connection on one of a
// fixed pool of threads (8 on a small machine) and waits up to 5 s for every
// read, with no bound on a whole request: a handful of idle or half-sent
// requests took every thread, and a client trickling one byte every few
// seconds held one for as long as it liked. The servers made here replace it:
//  * a thread per connection, started on demand (GrowingTaskQueue), up to a
//    cap on open connections; a connection above the cap is answered 503 and
//    closed at once;
//  * an idle connection is closed after `idle_timeout` without a request;
//  * the request line and headers must arrive within `header_timeout` in
//    total, however they trickle in;
//  * each body read and each write waits at most `io_timeout`;
//  * Stop is not delayed by idle connections;
//  * a listen backlog of 1024 instead of 5 (WidenListenBacklog).
// Handlers, routing and responses are cpp-httplib's, unchanged.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "immudb/status.h"

namespace httplib {
class Server;
}

namespace immudb::server {

struct HttpLimits {
  size_t max_connections = 256;
  std::chrono::milliseconds idle_timeout{5000};
  std::chrono::milliseconds header_timeout{5000};
  std::chrono::milliseconds io_timeout{5000};
  size_t max_requests_per_connection = 100;
};

// A plain HTTP server with `limits`.
std::unique_ptr<httplib::Server> NewGuardedHttpServer(const HttpLimits& limits);

// An HTTPS server with `limits` (PEM files); with `client_cas` non-empty,
// clients must present a certificate signed by one of them. Check
// is_valid(): false when the files cannot be loaded.
std::unique_ptr<httplib::Server> NewGuardedHttpsServer(const HttpLimits& limits,
                                                       const std::string& certificate,
                                                       const std::string& key,
                                                       const std::string& client_cas);

// After bind_to_port / bind_to_any_port of a server made here: raises the
// listen backlog from cpp-httplib's 5 to 1024. False if it could not.
bool WidenListenBacklog(httplib::Server* server);

// Serves a server made here on a thread of its own: binds it to
// address:port (port 0: a free port) and sets *bound_port (0 when binding
// fails), widens its backlog, runs its listen loop on *thread (which sets
// *listen_returned when the loop ends) and waits, at most 5 s, until the loop
// runs. Unavailable, naming the server as `what` ("metrics server"), when it
// cannot bind or the loop does not start; then nothing is left running.
// Stopping: server->stop(), then thread->join().
Status ListenInBackground(httplib::Server* server, std::string_view what,
                          const std::string& address, int port, int* bound_port,
                          std::thread* thread, std::atomic<bool>* listen_returned);

}  // namespace immudb::server
