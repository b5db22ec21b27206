// Metrics: Prometheus text exposition (version 0.0.4) of the server's state
// and of per-method RPC latencies, served with the health endpoints on the
// metrics port (wire-api.md §9):
//   GET /metrics                   text exposition
//   GET /readyz, /livez, /initz    200, empty body
//   GET /version                   {"component":"immudb","version":...}
// RpcMetrics is thread-safe; MetricsServer's Start/Stop are called by the
// Server only.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "immudb/result.h"

namespace httplib {
class Server;
}

namespace immudb::server {

struct ServerState;

// Bytes of the regular files under `dir` (0 if it cannot be read).
uint64_t DirSize(const std::string& dir);

class RpcMetrics {
 public:
  // Upper bounds (seconds) of the latency histogram buckets.
  static const std::vector<double>& Buckets();
  // Records one finished call of `method` (full gRPC method path).
  void Observe(std::string_view method, double seconds, int grpc_code);
  // Off: no latency histogram is kept or rendered (--no-histograms); the
  // per-code counters stay.
  void set_histograms(bool on) { histograms_.store(on, std::memory_order_relaxed); }
  // Appends the histogram and the per-code counters in text format.
  void Render(std::string* out) const;

 private:
  struct Histogram {
    std::vector<uint64_t> counts;  // Per bucket, not cumulative.
    uint64_t count = 0;
    double sum = 0;
  };
  std::atomic<bool> histograms_{true};
  mutable std::mutex mu_;
  // By method; looked up without copying the method name.
  std::map<std::string, Histogram, std::less<>> latency_;  // GUARDED_BY(mu_)
  std::map<std::string, std::map<int, uint64_t>, std::less<>>
      handled_;  // GUARDED_BY(mu_): by code.
};

// The whole /metrics page for `state` (databases, sessions, disk, uptime) and
// `rpcs`.
std::string RenderMetrics(const ServerState& state, const RpcMetrics& rpcs);

class MetricsServer {
 public:
  MetricsServer(const ServerState* state, const RpcMetrics* rpcs);
  ~MetricsServer();
  // Listens on address:port (0 = a free port) in a background thread.
  // Unavailable if the address cannot be bound.
  Status Start(const std::string& address, int port);
  int port() const { return port_; }
  // Idempotent.
  void Stop();

 private:
  const ServerState* state_;
  const RpcMetrics* rpcs_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  std::atomic<bool> listen_returned_{false};
  int port_ = 0;
};

}  // namespace immudb::server
