// `immuadmin stats`: reads the server's Prometheus text from
// http://<address>:<metrics-port>/metrics and prints it raw or as a summary.
#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

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

}  // namespace

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
