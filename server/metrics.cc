#include "server/metrics.h"

#include <httplib.h>

#include <charconv>
#include <chrono>
#include <ctime>
#include <filesystem>

#include "server/http_guard.h"
#include "server/service.h"

namespace immudb::server {
namespace {

// Label values escape backslash, double quote and newline.
std::string Label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

// Shortest fixed-point text that reads back as `v`.
std::string Num(double v) {
  char buf[400];  // Fits any double in fixed notation.
  auto r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
  return std::string(buf, r.ptr);
}

void Header(std::string* out, const char* name, const char* type, const char* help) {
  *out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

}  // namespace

uint64_t DirSize(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code fec;
    if (it->is_regular_file(fec)) total += it->file_size(fec);
  }
  return total;
}

const std::vector<double>& RpcMetrics::Buckets() {
  static const std::vector<double> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                               0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  return kBuckets;
}

void RpcMetrics::Observe(std::string_view method, double seconds, int grpc_code) {
  const auto& b = Buckets();
  size_t i = 0;
  while (i < b.size() && seconds > b[i]) ++i;
  std::lock_guard<std::mutex> l(mu_);
  if (histograms_.load(std::memory_order_relaxed)) {
    auto h = latency_.find(method);
    if (h == latency_.end()) {
      h = latency_.emplace(std::string(method), Histogram{}).first;
      h->second.counts.assign(b.size() + 1, 0);  // Last slot: +Inf only.
    }
    ++h->second.counts[i];
    ++h->second.count;
    h->second.sum += seconds;
  }
  auto codes = handled_.find(method);
  if (codes == handled_.end())
    codes = handled_.emplace(std::string(method), std::map<int, uint64_t>{}).first;
  ++codes->second[grpc_code];
}

void RpcMetrics::Render(std::string* out) const {
  std::lock_guard<std::mutex> l(mu_);
  const auto& b = Buckets();
  if (histograms_.load(std::memory_order_relaxed)) {
    Header(out, "immudb_query_latency_seconds", "histogram", "RPC handling time per gRPC method.");
  }
  for (const auto& [method, h] : latency_) {
    const std::string op = "op=\"" + Label(method) + "\"";
    uint64_t cumulative = 0;
    for (size_t i = 0; i < b.size(); ++i) {
      cumulative += h.counts[i];
      *out += "immudb_query_latency_seconds_bucket{" + op + ",le=\"" + Num(b[i]) + "\"} " +
              std::to_string(cumulative) + "\n";
    }
    *out += "immudb_query_latency_seconds_bucket{" + op + ",le=\"+Inf\"} " +
            std::to_string(h.count) + "\n";
    *out += "immudb_query_latency_seconds_sum{" + op + "} " + Num(h.sum) + "\n";
    *out += "immudb_query_latency_seconds_count{" + op + "} " + std::to_string(h.count) + "\n";
  }
  Header(out, "grpc_server_handled_total", "counter", "RPCs completed, by method and status code.");
  for (const auto& [method, codes] : handled_) {
    for (const auto& [code, n] : codes) {
      *out += "grpc_server_handled_total{grpc_method=\"" + Label(method) + "\",grpc_code=\"" +
              std::to_string(code) + "\"} " + std::to_string(n) + "\n";
    }
  }
}

std::string RenderMetrics(const ServerState& state, const RpcMetrics& rpcs) {
  std::string out;
  const double uptime_h =
      static_cast<double>(static_cast<int64_t>(std::time(nullptr)) - state.started_at) / 3600.0;
  Header(&out, "immudb_uptime_hours", "gauge", "Hours since the server started.");
  out += "immudb_uptime_hours " + Num(uptime_h) + "\n";

  const std::vector<std::string> names = state.dbs->Names();
  std::string committed, indexed, lag, size;
  size_t loaded = 0;
  for (const std::string& name : names) {
    auto db = state.dbs->Get(name);
    if (!db.ok()) continue;  // Unloaded: known, not open.
    loaded++;
    const uint64_t c = (*db)->db->CurrentState().tx_id;
    const uint64_t i = (*db)->db->IndexedUpTo();
    const std::string l = "{db=\"" + Label(name) + "\"} ";
    committed += "immudb_last_committed_trx_id" + l + std::to_string(c) + "\n";
    indexed += "immudb_last_indexed_trx_id" + l + std::to_string(i) + "\n";
    lag += "immudb_index_lag_transactions" + l + std::to_string(c > i ? c - i : 0) + "\n";
    size +=
        "immudb_db_size_bytes" + l + std::to_string(DirSize(state.config.dir + "/" + name)) + "\n";
  }
  Header(&out, "immudb_loaded_databases", "gauge", "Databases open.");
  out += "immudb_loaded_databases " + std::to_string(loaded) + "\n";
  Header(&out, "immudb_active_sessions", "gauge", "Open sessions.");
  out += "immudb_active_sessions " + std::to_string(state.sessions->Count()) + "\n";
  Header(&out, "immudb_last_committed_trx_id", "gauge",
         "Id of the last committed transaction (= transactions in the database).");
  out += committed;
  Header(&out, "immudb_last_indexed_trx_id", "gauge", "Id of the last indexed transaction.");
  out += indexed;
  Header(&out, "immudb_index_lag_transactions", "gauge", "Committed transactions not yet indexed.");
  out += lag;
  Header(&out, "immudb_db_size_bytes", "gauge", "Bytes on disk per database.");
  out += size;
  Header(&out, "immudb_data_dir_size_bytes", "gauge", "Bytes on disk under the data directory.");
  out += "immudb_data_dir_size_bytes " + std::to_string(DirSize(state.config.dir)) + "\n";
  rpcs.Render(&out);
  return out;
}

MetricsServer::MetricsServer(const ServerState* state, const RpcMetrics* rpcs)
    : state_(state), rpcs_(rpcs) {}

MetricsServer::~MetricsServer() { Stop(); }

Status MetricsServer::Start(const std::string& address, int port) {
  // Idle, slow or too many connections cannot starve the port
  // (server/http_guard.h).
  http_ = NewGuardedHttpServer(HttpLimits());
  http_->set_default_headers({{"Access-Control-Allow-Origin", "*"}});
  http_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(RenderMetrics(*state_, *rpcs_), "text/plain; version=0.0.4; charset=utf-8");
  });
  for (const char* path : {"/readyz", "/livez", "/initz"}) {
    http_->Get(path, [](const httplib::Request&, httplib::Response& res) { res.status = 200; });
  }
  http_->Get("/version", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string(R"({"component":"immudb","version":")") + IMMUDB_VERSION +
                        R"(","buildtime":"","static":false,"fips":false})",
                    "application/json");
  });
  http_->Options(".*", [](const httplib::Request&, httplib::Response& res) { res.status = 204; });
  return ListenInBackground(http_.get(), "metrics server", address, port, &port_, &thread_,
                            &listen_returned_);
}

void MetricsServer::Stop() {
  if (!thread_.joinable()) return;
  http_->stop();
  thread_.join();
}

}  // namespace immudb::server
