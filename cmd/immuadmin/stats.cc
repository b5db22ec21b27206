// `immuadmin stats`: reads the server's Prometheus text from
// http://<address>:<metrics-port>/metrics and prints it raw or as a summary.
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <sstream>

#include "cmd/immuadmin/cli.h"

namespace immudb::admin {
namespace {

// The body of GET http://host:port/path (HTTP/1.0, bounded by a 10 s timeout).
std::string HttpGet(const std::string& host, int port, const std::string& path) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const std::string where = host + ":" + std::to_string(port);
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 || !res) {
    throw Failure("cannot resolve " + host);
  }
  int fd = ::socket(res->ai_family, res->ai_socktype, res->ai_protocol);
  timeval tv{10, 0};
  if (fd >= 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  }
  const bool connected = fd >= 0 && ::connect(fd, res->ai_addr, res->ai_addrlen) == 0;
  ::freeaddrinfo(res);
  if (!connected) {
    if (fd >= 0) ::close(fd);
    throw Failure("cannot reach the metrics server at " + where +
                  " (is it enabled? see --metrics-port)");
  }
  const std::string req = "GET " + path + " HTTP/1.0\r\nHost: " + where + "\r\n\r\n";
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    ::close(fd);
    throw Failure("cannot send the request to " + where);
  }
  std::string resp;
  char buf[16384];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof(buf), 0)) > 0) resp.append(buf, static_cast<size_t>(n));
  ::close(fd);
  const size_t body = resp.find("\r\n\r\n");
  if (resp.rfind("HTTP/1.", 0) != 0 || body == std::string::npos) {
    throw Failure("malformed reply from the metrics server at " + where);
  }
  const std::string status = resp.substr(9, 3);
  if (status != "200") throw Failure("metrics server at " + where + " answered " + status);
  return resp.substr(body + 4);
}

struct Metrics {
  std::map<std::string, double> plain;                          // name -> value
  std::map<std::string, std::map<std::string, double>> per_db;  // db -> name -> value
};

Metrics Parse(const std::string& text) {
  Metrics m;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t sp = line.rfind(' ');
    if (sp == std::string::npos) continue;
    std::string name = line.substr(0, sp);
    const double value = std::strtod(line.c_str() + sp + 1, nullptr);
    const size_t brace = name.find('{');
    if (brace == std::string::npos) {
      m.plain[name] = value;
      continue;
    }
    const size_t db = name.find("db=\"", brace);
    if (db == std::string::npos) continue;
    const size_t end = name.find('"', db + 4);
    m.per_db[name.substr(db + 4, end - db - 4)][name.substr(0, brace)] = value;
  }
  return m;
}

std::string Int(double v) { return std::to_string(static_cast<long long>(v)); }

// Sum of every sample of a metric with labels (e.g. all RPC methods).
double SumOf(const std::string& text, const std::string& name) {
  double sum = 0;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + "{", 0) != 0) continue;
    const size_t sp = line.rfind(' ');
    if (sp != std::string::npos) sum += std::strtod(line.c_str() + sp + 1, nullptr);
  }
  return sum;
}

// The terminal's settings while the dashboard runs (restored on exit and on
// SIGINT/SIGTERM).
termios g_saved_tty;
bool g_tty_changed = false;

void RestoreTty() {
  if (g_tty_changed) ::tcsetattr(STDIN_FILENO, TCSANOW, &g_saved_tty);
  g_tty_changed = false;
}

void OnSignal(int) {
  RestoreTty();
  static const char kShowCursor[] = "\x1b[?25h\n";
  (void)!::write(STDOUT_FILENO, kShowCursor, sizeof(kShowCursor) - 1);
  ::_exit(0);
}

}  // namespace

void StatsDashboard(const Settings& s, int64_t refreshes, int64_t interval_ms) {
  if (interval_ms <= 0) throw Failure("invalid --interval");
  const bool keys = ::isatty(STDIN_FILENO) != 0;
  if (keys && ::tcgetattr(STDIN_FILENO, &g_saved_tty) == 0) {
    termios raw = g_saved_tty;
    raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
    raw.c_cc[VMIN] = 0;
    raw.c_cc[VTIME] = 0;
    g_tty_changed = ::tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
  }
  ::signal(SIGINT, OnSignal);
  ::signal(SIGTERM, OnSignal);
  struct Restore {
    ~Restore() { RestoreTty(); }
  } restore;
  std::map<std::string, double> last_tx;
  double last_rpcs = -1;
  auto last_at = std::chrono::steady_clock::now();
  for (int64_t frame = 1; refreshes == 0 || frame <= refreshes; frame++) {
    const std::string text = HttpGet(s.address, s.metrics_port, "/metrics");
    const auto now = std::chrono::steady_clock::now();
    const double secs = std::chrono::duration<double>(now - last_at).count();
    last_at = now;
    Metrics m = Parse(text);
    const double rpcs = SumOf(text, "grpc_server_handled_total");
    std::ostringstream out;
    out << "\x1b[H\x1b[2J";  // Home, clear screen.
    out << "immudb at " << s.address << ":" << s.metrics_port << "   uptime "
        << HumanDuration(static_cast<int64_t>(m.plain["immudb_uptime_hours"] * 3600))
        << "   refresh #" << frame << " (every " << interval_ms << " ms; q or Ctrl-C quits)\n\n";
    char line[256];
    std::snprintf(line, sizeof(line), "loaded databases %-6s active sessions %-6s RPCs/s %s\n\n",
                  Int(m.plain["immudb_loaded_databases"]).c_str(),
                  Int(m.plain["immudb_active_sessions"]).c_str(),
                  last_rpcs < 0 ? "-" : Int((rpcs - last_rpcs) / secs).c_str());
    out << line;
    std::snprintf(line, sizeof(line), "%-20s %14s %10s %14s %10s %12s\n", "DATABASE",
                  "COMMITTED TX", "TX/S", "INDEXED TX", "INDEX LAG", "SIZE");
    out << line;
    for (auto& [db, values] : m.per_db) {
      const double tx = values["immudb_last_committed_trx_id"];
      auto prev = last_tx.find(db);
      const std::string rate = prev == last_tx.end() ? "-" : Int((tx - prev->second) / secs);
      last_tx[db] = tx;
      std::snprintf(line, sizeof(line), "%-20s %14s %10s %14s %10s %12s\n", db.c_str(),
                    Int(tx).c_str(), rate.c_str(),
                    Int(values["immudb_last_indexed_trx_id"]).c_str(),
                    Int(values["immudb_index_lag_transactions"]).c_str(),
                    HumanBytes(static_cast<uint64_t>(values["immudb_db_size_bytes"])).c_str());
      out << line;
    }
    last_rpcs = rpcs;
    std::cout << out.str() << std::flush;
    if (refreshes != 0 && frame == refreshes) break;
    // Wait for the next refresh, or a 'q' on the terminal.
    pollfd p{STDIN_FILENO, POLLIN, 0};
    const int ready = ::poll(keys ? &p : nullptr, keys ? 1 : 0, static_cast<int>(interval_ms));
    if (ready > 0) {
      char c = 0;
      if (::read(STDIN_FILENO, &c, 1) == 1 && (c == 'q' || c == 'Q')) break;
    }
  }
  std::cout << "\n";
}

void Stats(const Settings& s, bool raw) {
  const std::string text = HttpGet(s.address, s.metrics_port, "/metrics");
  if (raw) {
    std::cout << text;
    return;
  }
  Metrics m = Parse(text);
  std::cout << "immudb metrics from " << s.address << ":" << s.metrics_port << "\n"
            << "uptime:            "
            << HumanDuration(static_cast<int64_t>(m.plain["immudb_uptime_hours"] * 3600)) << "\n"
            << "loaded databases:  " << Int(m.plain["immudb_loaded_databases"]) << "\n"
            << "active sessions:   " << Int(m.plain["immudb_active_sessions"]) << "\n";
  char line[256];
  std::snprintf(line, sizeof(line), "%-20s %14s %14s %12s\n", "DATABASE", "COMMITTED TX",
                "INDEXED TX", "SIZE");
  std::cout << line;
  for (auto& [db, values] : m.per_db) {
    std::snprintf(line, sizeof(line), "%-20s %14s %14s %12s\n", db.c_str(),
                  Int(values["immudb_last_committed_trx_id"]).c_str(),
                  Int(values["immudb_last_indexed_trx_id"]).c_str(),
                  HumanBytes(static_cast<uint64_t>(values["immudb_db_size_bytes"])).c_str());
    std::cout << line;
  }
}

}  // namespace immudb::admin
