// Auditor: metrics, the tampering webhook, the monitoring server and the run
// loop; small text helpers (durations, passwords, base64).
#include <httplib.h>
#include <malloc.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>

#include "client/auditor.h"
#include "immudb/json_escape.h"

namespace immudb::client {
namespace {

std::string JsonString(std::string_view s) { return "\"" + JsonEscape(s) + "\""; }

std::string JsonState(const std::optional<State>& s) {
  if (!s) return "null";
  return "{\"tx\":" + std::to_string(s->tx_id) + ",\"hash\":" +
         JsonString(Base64Encode(std::string_view(reinterpret_cast<const char*>(s->tx_hash.data()),
                                                  s->tx_hash.size()))) +
         ",\"signature\":{\"signature\":" + JsonString(Base64Encode(s->signature)) +
         ",\"public_key\":\"\"}}";
}

std::string Rfc3339Now() {
  const time_t now = std::time(nullptr);
  struct tm tm_buf;
  char out[32];
  std::strftime(out, sizeof(out), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm_buf));
  return out;
}

// A Prometheus label value: backslash, quote and newline escaped.
std::string Label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void Header(std::string* out, const char* name, const char* type, const char* help) {
  *out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

std::string ReadProcFile(const char* path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// This process's arguments as a JSON array (expvar's "cmdline"), with the
// value of every --*password* flag replaced by "***": the page has no
// authentication.
std::string JsonCmdline() {
  const std::string raw = ReadProcFile("/proc/self/cmdline");
  std::string out = "[";
  bool secret_next = false;
  for (size_t at = 0; at < raw.size();) {
    const size_t end = std::min(raw.find('\0', at), raw.size());
    std::string arg = raw.substr(at, end - at);
    at = end + 1;
    if (secret_next) {
      arg = "***";
      secret_next = false;
    } else if (arg.starts_with("--") && arg.find("password") != std::string::npos) {
      const size_t eq = arg.find('=');
      if (eq == std::string::npos) {
        secret_next = true;
      } else {
        arg = arg.substr(0, eq + 1) + "***";
      }
    }
    if (out.size() > 1) out += ",";
    out += JsonString(arg);
  }
  return out + "]";
}

// A "Name:   <n> kB" line of /proc/self/status in bytes (or the plain number
// for counts such as Threads); 0 when absent.
uint64_t StatusField(const std::string& status, const std::string& name) {
  const size_t at = status.find("\n" + name + ":");
  if (at == std::string::npos) return 0;
  char* end = nullptr;
  const uint64_t v = std::strtoull(status.c_str() + at + name.size() + 2, &end, 10);
  return std::string_view(status).substr(end - status.c_str(), 3) == " kB" ? v * 1024 : v;
}

// What this process's memory can honestly tell: the kernel's figures and
// malloc's (mallinfo2 counts every arena). Names follow Go's MemStats where
// the meaning is the same (HeapAlloc, HeapSys).
std::string JsonMemstats() {
  const std::string status = "\n" + ReadProcFile("/proc/self/status");
  const struct mallinfo2 mi = ::mallinfo2();
  const std::pair<const char*, uint64_t> fields[] = {
      {"RSS", StatusField(status, "VmRSS")},     {"MaxRSS", StatusField(status, "VmHWM")},
      {"VmSize", StatusField(status, "VmSize")}, {"NumThread", StatusField(status, "Threads")},
      {"HeapAlloc", mi.uordblks + mi.hblkhd},    {"HeapSys", mi.arena + mi.hblkhd},
  };
  std::string out = "{";
  for (const auto& [name, value] : fields) {
    if (out.size() > 1) out += ",";
    out += "\"" + std::string(name) + "\":" + std::to_string(value);
  }
  return out + "}";
}

}  // namespace

void Auditor::Record(const AuditReport& report) {
  std::lock_guard<std::mutex> lock(metrics_mu_);
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  ++runs_total_;
  if (!report.error.empty()) {
    ++errors_total_;
    for (auto& [db, m] : db_metrics_) {
      m.last.result = AuditResult::kError;
      m.last.message = report.error;
      m.run_at = now;
    }
  }
  for (const DbAudit& a : report.dbs) {
    DbMetrics& m = db_metrics_[a.db];
    if (!report.server_id.empty()) m.server_id = report.server_id;
    m.last = a;
    m.run_at = now;
    m.txs_checked_total += a.txs_checked;
    if (a.result == AuditResult::kTampered) ++tampering_total_;
    if (a.result == AuditResult::kError) ++errors_total_;
  }
  last_report_ = report;
}

AuditReport Auditor::LastReport() const {
  std::lock_guard<std::mutex> lock(metrics_mu_);
  return last_report_;
}

uint64_t Auditor::tampering_count() const {
  std::lock_guard<std::mutex> lock(metrics_mu_);
  return tampering_total_;
}

uint64_t Auditor::error_count() const {
  std::lock_guard<std::mutex> lock(metrics_mu_);
  return errors_total_;
}

std::string Auditor::Metrics() const {
  std::lock_guard<std::mutex> lock(metrics_mu_);
  std::string out;
  auto labels = [this](const std::string& db, const DbMetrics& m) {
    return "server_id=\"" + Label(m.server_id) + "\",server_address=\"" + Label(server_address_) +
           "\",db=\"" + Label(db) + "\"";
  };
  auto gauge = [&](const char* name, const char* help, auto value) {
    Header(&out, name, "gauge", help);
    for (const auto& [db, m] : db_metrics_) {
      out += std::string(name) + "{" + labels(db, m) + "} " + std::to_string(value(m)) + "\n";
    }
  };
  gauge("immuclient_audit_result_per_server",
        "Latest audit result (1 = ok, 0 = tampered, -1 = not checked, -2 = error).",
        [](const DbMetrics& m) { return static_cast<int>(m.last.result); });
  gauge("immuclient_audit_prev_root_per_server", "Trusted tx id before the latest audit.",
        [](const DbMetrics& m) {
          return m.last.previous ? static_cast<int64_t>(m.last.previous->tx_id) : int64_t{-1};
        });
  gauge("immuclient_audit_curr_root_per_server", "Current tx id seen by the latest audit.",
        [](const DbMetrics& m) {
          return m.last.current ? static_cast<int64_t>(m.last.current->tx_id) : int64_t{-1};
        });
  gauge("immuclient_audit_run_at_per_server", "Unix seconds of the latest audit.",
        [](const DbMetrics& m) { return m.run_at; });
  auto hash_info = [&](const char* name, const char* help, bool prev) {
    Header(&out, name, "gauge", help);
    for (const auto& [db, m] : db_metrics_) {
      const std::optional<State>& s = prev ? m.last.previous : m.last.current;
      if (!s) continue;
      out += std::string(name) + "{" + labels(db, m) + ",tx=\"" + std::to_string(s->tx_id) +
             "\",hash=\"" + ToHex(s->tx_hash) + "\"} 1\n";
    }
  };
  hash_info("immuclient_audit_prev_hash_info", "Trusted state before the latest audit.", true);
  hash_info("immuclient_audit_curr_hash_info", "Current state seen by the latest audit.", false);
  Header(&out, "immuclient_audit_txs_checked_total", "counter",
         "Transactions re-read with their values.");
  for (const auto& [db, m] : db_metrics_) {
    out += "immuclient_audit_txs_checked_total{" + labels(db, m) + "} " +
           std::to_string(m.txs_checked_total) + "\n";
  }
  Header(&out, "immuclient_audit_runs_total", "counter", "Audit runs.");
  out += "immuclient_audit_runs_total " + std::to_string(runs_total_) + "\n";
  Header(&out, "immuclient_audit_tampering_total", "counter",
         "Database audits that found tampering.");
  out += "immuclient_audit_tampering_total " + std::to_string(tampering_total_) + "\n";
  Header(&out, "immuclient_audit_errors_total", "counter",
         "Runs or database audits that failed with an error.");
  out += "immuclient_audit_errors_total " + std::to_string(errors_total_) + "\n";
  return out;
}

std::string Auditor::DebugVars() const {
  std::string auditor;
  {
    std::lock_guard<std::mutex> lock(metrics_mu_);
    auditor = "{\"server_address\":" + JsonString(server_address_) +
              ",\"runs\":" + std::to_string(runs_total_) +
              ",\"tampering\":" + std::to_string(tampering_total_) +
              ",\"errors\":" + std::to_string(errors_total_) + ",\"databases\":{";
    bool first = true;
    for (const auto& [db, m] : db_metrics_) {
      auto tx = [](const std::optional<State>& s) {
        return s ? std::to_string(s->tx_id) : std::string("-1");
      };
      if (!first) auditor += ",";
      first = false;
      auditor += JsonString(db) + ":{\"server_id\":" + JsonString(m.server_id) +
                 ",\"result\":" + std::to_string(static_cast<int>(m.last.result)) +
                 ",\"prev_tx\":" + tx(m.last.previous) + ",\"curr_tx\":" + tx(m.last.current) +
                 ",\"run_at\":" + std::to_string(m.run_at) +
                 ",\"txs_checked\":" + std::to_string(m.txs_checked_total) + "}";
    }
    auditor += "}}";
  }
  return "{\"cmdline\":" + JsonCmdline() + ",\"memstats\":" + JsonMemstats() +
         ",\"auditor\":" + auditor + "}\n";
}

void Auditor::Notify(const AuditReport& report, const DbAudit& audit) {
  const std::string& url = options_.notification_url;
  if (url.empty()) return;
  const size_t scheme_end = url.find("://");
  const size_t path_at = url.find('/', scheme_end + 3);
  const std::string base = url.substr(0, path_at);
  const std::string path = path_at == std::string::npos ? "/" : url.substr(path_at);
  const std::string body = "{\"username\":" + JsonString(options_.notification_username) +
                           ",\"password\":" + JsonString(options_.notification_password) +
                           ",\"db\":" + JsonString(audit.db) +
                           ",\"run_at\":" + JsonString(Rfc3339Now()) +
                           ",\"tampered\":true,\"reason\":" + JsonString(audit.message) +
                           ",\"server_id\":" + JsonString(report.server_id) +
                           ",\"server_address\":" + JsonString(server_address_) +
                           ",\"previous_state\":" + JsonState(audit.previous) +
                           ",\"current_state\":" + JsonState(audit.current) + "}";
  httplib::Client http(base);
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(options_.notification_timeout);
  const auto usecs =
      std::chrono::duration_cast<std::chrono::microseconds>(options_.notification_timeout - secs);
  http.set_connection_timeout(secs.count(), usecs.count());
  http.set_read_timeout(secs.count(), usecs.count());
  http.set_write_timeout(secs.count(), usecs.count());
  httplib::Result res = http.Post(path.c_str(), body, "application/json");
  if (!res) {
    Log("audit notification to " + url + " failed: " + httplib::to_string(res.error()));
  } else if (res->status < 200 || res->status > 299) {
    Log("audit notification to " + url + " got HTTP " + std::to_string(res->status));
  } else {
    Log("audit notification for db " + audit.db + " sent to " + url);
  }
}

Status Auditor::Start(uint64_t max_runs) {
  if (loop_.joinable()) return Status::FailedPrecondition("auditor already started");
  if (options_.monitoring_port >= 0) {
    http_ = std::make_unique<httplib::Server>();
    http_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(Metrics(), "text/plain; version=0.0.4; charset=utf-8");
    });
    http_->Get("/debug/vars", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(DebugVars(), "application/json; charset=utf-8");
    });
    http_->Get("/", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(
          "immuclient audit mode: /metrics, /debug/vars, /readyz, /livez, /initz, /version\n",
          "text/plain");
    });
    for (const char* path : {"/readyz", "/livez", "/initz"}) {
      http_->Get(path, [](const httplib::Request&, httplib::Response& res) { res.status = 200; });
    }
    http_->Get("/version", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("{\"component\":\"immuclient-auditor\"}", "application/json");
    });
    const std::string& addr = options_.monitoring_address;
    int port =
        options_.monitoring_port == 0
            ? http_->bind_to_any_port(addr)
            : (http_->bind_to_port(addr, options_.monitoring_port) ? options_.monitoring_port : -1);
    if (port <= 0) {
      http_.reset();
      return Status::Unavailable("audit monitoring server: cannot listen on " + addr + ":" +
                                 std::to_string(options_.monitoring_port));
    }
    httplib::Server* server = http_.get();
    http_thread_ = std::thread([server] { server->listen_after_bind(); });
    for (int i = 0; i < 5000 && !server->is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    monitoring_port_ = port;
  }
  {
    std::lock_guard<std::mutex> lock(loop_mu_);
    stopping_ = false;
    loop_done_ = false;
  }
  loop_ = std::thread([this, max_runs] { Loop(max_runs); });
  return Status::OK();
}

void Auditor::Loop(uint64_t max_runs) {
  for (uint64_t n = 1;; ++n) {
    RunOnce();
    std::unique_lock<std::mutex> lock(loop_mu_);
    if (max_runs > 0 && n >= max_runs) break;
    if (loop_cv_.wait_for(lock, options_.interval, [this] { return stopping_; })) break;
  }
  std::lock_guard<std::mutex> lock(loop_mu_);
  loop_done_ = true;
  loop_cv_.notify_all();
}

void Auditor::Wait() {
  std::unique_lock<std::mutex> lock(loop_mu_);
  loop_cv_.wait(lock, [this] { return loop_done_; });
}

bool Auditor::WaitFor(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(loop_mu_);
  return loop_cv_.wait_for(lock, timeout, [this] { return loop_done_; });
}

void Auditor::Stop() {
  {
    std::lock_guard<std::mutex> lock(loop_mu_);
    stopping_ = true;
    loop_cv_.notify_all();
  }
  if (loop_.joinable()) loop_.join();
  if (http_) {
    http_->stop();
    if (http_thread_.joinable()) http_thread_.join();
    http_.reset();
    monitoring_port_ = -1;
  }
}

Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  const std::string what = "invalid duration \"" + std::string(text) + "\"";
  if (text == "0") return std::chrono::milliseconds(0);
  if (text.empty()) return Status::InvalidArgument(what);
  double total_ms = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) {
      ++i;
    }
    if (i == start) return Status::InvalidArgument(what);
    const std::string num(text.substr(start, i - start));
    char* end = nullptr;
    const double v = std::strtod(num.c_str(), &end);
    if (end != num.c_str() + num.size()) return Status::InvalidArgument(what);
    start = i;
    while (i < text.size() && !std::isdigit(static_cast<unsigned char>(text[i])) &&
           text[i] != '.') {
      ++i;
    }
    const std::string_view unit = text.substr(start, i - start);
    double scale = 0;
    if (unit == "ns") scale = 1e-6;
    if (unit == "us" || unit == "µs") scale = 1e-3;
    if (unit == "ms") scale = 1;
    if (unit == "s") scale = 1e3;
    if (unit == "m") scale = 60e3;
    if (unit == "h") scale = 3600e3;
    if (scale == 0) return Status::InvalidArgument(what + ": unknown unit");
    total_ms += v * scale;
  }
  if (!std::isfinite(total_ms) || total_ms > 1e15) return Status::InvalidArgument(what);
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(total_ms)));
}

Result<std::string> DecodePassword(std::string_view text) {
  if (text.rfind("enc:", 0) != 0) return std::string(text);
  Result<std::string> plain = Base64Decode(text.substr(4));
  if (!plain.ok()) return Status::InvalidArgument("password after enc: is not base64");
  return plain;
}

namespace {
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}  // namespace

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) |
                       (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                       static_cast<uint8_t>(bytes[i + 2]);
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  if (i < bytes.size()) {
    uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kB64[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return Status::InvalidArgument("base64 length is not a multiple of 4");
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    uint32_t v = 0;
    int pad = 0;
    for (size_t j = 0; j < 4; ++j) {
      const char c = text[i + j];
      int d = -1;
      if (c == '=' && i + 4 == text.size() && j >= 2) {
        ++pad;
        d = 0;
      } else if (pad == 0) {
        const char* at = std::strchr(kB64, c);
        if (c != '\0' && at != nullptr) d = static_cast<int>(at - kB64);
      }
      if (d < 0) return Status::InvalidArgument("invalid base64");
      v = (v << 6) | static_cast<uint32_t>(d);
    }
    out += static_cast<char>(v >> 16);
    if (pad < 2) out += static_cast<char>((v >> 8) & 0xff);
    if (pad < 1) out += static_cast<char>(v & 0xff);
  }
  return out;
}

}  // namespace immudb::client
