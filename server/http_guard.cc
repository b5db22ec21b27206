#include "server/http_guard.h"

#include <fcntl.h>
#include <httplib.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <list>
#include <mutex>
#include <thread>
#include <vector>

namespace immudb::server {
namespace {

using Clock = std::chrono::steady_clock;

// Runs each job on a thread of its own kind: an idle thread if there is
// one, else a new thread, up to `max_threads` (then jobs wait). Threads idle
// for kIdleExit end, so a burst of connections does not keep its threads.
class GrowingTaskQueue final : public httplib::TaskQueue {
 public:
  explicit GrowingTaskQueue(size_t max_threads) : max_threads_(max_threads) {}
  ~GrowingTaskQueue() override { shutdown(); }

  void enqueue(std::function<void()> fn) override {
    std::vector<std::thread> ended;
    {
      std::lock_guard<std::mutex> l(mu_);
      jobs_.push_back(std::move(fn));
      ended.swap(ended_);
      if (jobs_.size() > idle_ && running_.size() < max_threads_) {
        auto it = running_.emplace(running_.end());
        *it = std::thread([this, it] { Work(it); });
      } else {
        cv_.notify_one();
      }
    }
    for (std::thread& t : ended) t.join();
  }

  // Runs the queued jobs, then joins every thread. Idempotent.
  void shutdown() override {
    std::list<std::thread> running;
    std::vector<std::thread> ended;
    {
      std::lock_guard<std::mutex> l(mu_);
      shutdown_ = true;
      running.swap(running_);
      ended.swap(ended_);
    }
    cv_.notify_all();
    for (std::thread& t : running) t.join();
    for (std::thread& t : ended) t.join();
  }

 private:
  static constexpr std::chrono::seconds kIdleExit{10};

  void Work(std::list<std::thread>::iterator self) {
    std::unique_lock<std::mutex> l(mu_);
    while (true) {
      ++idle_;
      const bool woken = cv_.wait_for(l, kIdleExit, [this] { return !jobs_.empty() || shutdown_; });
      --idle_;
      if (!jobs_.empty()) {
        std::function<void()> fn = std::move(jobs_.front());
        jobs_.pop_front();
        l.unlock();
        fn();
        l.lock();
        continue;
      }
      if (shutdown_) return;  // shutdown() joins this thread.
      if (!woken) {
        // Idle too long: hand the thread to the next enqueue to join.
        ended_.push_back(std::move(*self));
        running_.erase(self);
        return;
      }
    }
  }

  const size_t max_threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;  // GUARDED_BY(mu_)
  std::list<std::thread> running_;          // GUARDED_BY(mu_)
  std::vector<std::thread> ended_;          // GUARDED_BY(mu_): to be joined.
  size_t idle_ = 0;                         // GUARDED_BY(mu_)
  bool shutdown_ = false;                   // GUARDED_BY(mu_)
};

// Threads beyond the connection cap, for the connections refused at once.
constexpr size_t kSpareThreads = 16;

constexpr ssize_t kWouldBlock = -2;

// One connection as a cpp-httplib Stream, buffered (the request parser reads
// a byte at a time), with the deadlines of HttpLimits. A request starts in
// the header phase, under one deadline for its request line and headers;
// once the blank line that ends them has been read, each read waits at most
// io_timeout. While waiting for a request or its headers, a stopping server
// (listening socket closed) ends the connection.
class ConnectionStream : public httplib::Stream {
 public:
  ConnectionStream(int fd, const HttpLimits& limits, const std::atomic<socket_t>* listener)
      : fd_(fd), limits_(limits), listener_(listener) {}

  // Waits until a request starts arriving; false when the connection is idle
  // for idle_timeout, closed, or the server stops.
  bool WaitForRequest() {
    if (begin_ < end_ || Pending()) return true;
    const auto deadline = Clock::now() + limits_.idle_timeout;
    return WaitIo(POLLIN, deadline, true);
  }
  void BeginRequest() {
    in_headers_ = true;
    header_deadline_ = Clock::now() + limits_.header_timeout;
    tail_ = 0;
  }

  bool is_readable() const override { return begin_ < end_ || Pending() || Poll(POLLIN, 0) > 0; }
  bool is_writable() const override { return Poll(POLLOUT, 0) > 0; }

  ssize_t read(char* ptr, size_t size) override {
    if (begin_ == end_ && !Fill()) return -1;
    const size_t n = std::min(size, end_ - begin_);
    std::memcpy(ptr, buf_.data() + begin_, n);
    begin_ += n;
    if (in_headers_) {
      // The headers end at the first "\r\n\r\n".
      for (size_t i = 0; i < n && in_headers_; ++i) {
        tail_ = (tail_ << 8) | static_cast<unsigned char>(ptr[i]);
        if (tail_ == 0x0d0a0d0a) in_headers_ = false;
      }
    }
    return static_cast<ssize_t>(n);
  }

  using httplib::Stream::write;
  ssize_t write(const char* ptr, size_t size) override {
    size_t done = 0;
    auto deadline = Clock::now() + limits_.io_timeout;
    while (done < size) {
      const ssize_t n = RawWrite(ptr + done, size - done);
      if (n > 0) {
        done += static_cast<size_t>(n);
        deadline = Clock::now() + limits_.io_timeout;
        continue;
      }
      if (n != kWouldBlock || !WaitIo(want_, deadline, false)) return -1;
    }
    return static_cast<ssize_t>(size);
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    Address(true, &ip, &port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    Address(false, &ip, &port);
  }
  socket_t socket() const override { return fd_; }

 protected:
  // Nonblocking transfers: > 0 bytes moved, 0 at the end of the stream,
  // kWouldBlock (set want_ to the poll event to wait for), -1 on errors.
  virtual ssize_t RawRead(char* ptr, size_t size) = 0;
  virtual ssize_t RawWrite(const char* ptr, size_t size) = 0;
  // Bytes already received and decoded but not yet read.
  virtual bool Pending() const { return false; }

  // Waits for `events` on the socket until `deadline`, in short slices so
  // that a stopping server is noticed when `stop_aware`.
  bool WaitIo(short events, Clock::time_point deadline, bool stop_aware) const {
    while (true) {
      if (stop_aware && listener_->load() == INVALID_SOCKET) return false;
      const auto now = Clock::now();
      if (now >= deadline) return false;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
      const int r = Poll(events, static_cast<int>(std::min<int64_t>(left.count() + 1, 100)));
      if (r > 0) return true;
      if (r < 0 && errno != EINTR) return false;
    }
  }

  const int fd_;
  const HttpLimits& limits_;
  short want_ = POLLIN;

 private:
  int Poll(short events, int timeout_ms) const {
    pollfd p{fd_, events, 0};
    return ::poll(&p, 1, timeout_ms);
  }

  bool Fill() {
    begin_ = end_ = 0;
    const bool stop_aware = in_headers_;
    const auto deadline = in_headers_ ? header_deadline_ : Clock::now() + limits_.io_timeout;
    while (true) {
      const ssize_t n = RawRead(buf_.data(), buf_.size());
      if (n > 0) {
        end_ = static_cast<size_t>(n);
        return true;
      }
      if (n != kWouldBlock || !WaitIo(want_, deadline, stop_aware)) return false;
    }
  }

  void Address(bool peer, std::string* ip, int* port) const {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    auto* sa = reinterpret_cast<sockaddr*>(&addr);
    if ((peer ? getpeername(fd_, sa, &len) : getsockname(fd_, sa, &len)) != 0) return;
    char host[NI_MAXHOST];
    char serv[NI_MAXSERV];
    if (getnameinfo(sa, len, host, sizeof(host), serv, sizeof(serv),
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
      return;
    }
    *ip = host;
    *port = std::atoi(serv);
  }

  const std::atomic<socket_t>* listener_;
  std::array<char, 4096> buf_{};
  size_t begin_ = 0;
  size_t end_ = 0;
  bool in_headers_ = false;
  Clock::time_point header_deadline_;
  uint32_t tail_ = 0;  // The last four bytes read in the header phase.
};

class PlainStream final : public ConnectionStream {
 public:
  using ConnectionStream::ConnectionStream;

 protected:
  ssize_t RawRead(char* ptr, size_t size) override {
    const ssize_t n = ::recv(fd_, ptr, size, MSG_DONTWAIT);
    if (n >= 0) return n;
    want_ = POLLIN;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? kWouldBlock : -1;
  }
  ssize_t RawWrite(const char* ptr, size_t size) override {
    const ssize_t n = ::send(fd_, ptr, size, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n >= 0) return n;
    want_ = POLLOUT;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? kWouldBlock : -1;
  }
};

class TlsStream final : public ConnectionStream {
 public:
  TlsStream(int fd, SSL* ssl, const HttpLimits& limits, const std::atomic<socket_t>* listener)
      : ConnectionStream(fd, limits, listener), ssl_(ssl) {}

  // The TLS handshake, within header_timeout.
  bool Handshake() {
    const auto deadline = Clock::now() + limits_.header_timeout;
    while (true) {
      ERR_clear_error();
      const int r = SSL_accept(ssl_);
      if (r == 1) return true;
      if (Wants(SSL_get_error(ssl_, r)) != kWouldBlock || !WaitIo(want_, deadline, true)) {
        return false;
      }
    }
  }

 protected:
  ssize_t RawRead(char* ptr, size_t size) override {
    ERR_clear_error();
    const int n = SSL_read(ssl_, ptr, static_cast<int>(std::min<size_t>(size, INT32_MAX)));
    if (n > 0) return n;
    const int e = SSL_get_error(ssl_, n);
    if (e == SSL_ERROR_ZERO_RETURN) return 0;
    return Wants(e);
  }
  ssize_t RawWrite(const char* ptr, size_t size) override {
    ERR_clear_error();
    const int n = SSL_write(ssl_, ptr, static_cast<int>(std::min<size_t>(size, INT32_MAX)));
    if (n > 0) return n;
    return Wants(SSL_get_error(ssl_, n));
  }
  bool Pending() const override { return SSL_pending(ssl_) > 0; }

 private:
  ssize_t Wants(int ssl_error) {
    if (ssl_error == SSL_ERROR_WANT_READ) {
      want_ = POLLIN;
      return kWouldBlock;
    }
    if (ssl_error == SSL_ERROR_WANT_WRITE) {
      want_ = POLLOUT;
      return kWouldBlock;
    }
    return -1;
  }

  SSL* ssl_;
};

// Serves requests on `stream` until the client closes, a limit is reached
// or a request fails. `process` is Server::process_request.
template <class Process>
bool ServeRequests(ConnectionStream& stream, const HttpLimits& limits, Process process) {
  bool ok = false;
  for (size_t n = 1; n <= limits.max_requests_per_connection; ++n) {
    if (!stream.WaitForRequest()) break;
    stream.BeginRequest();
    bool closed = false;
    ok = process(stream, n == limits.max_requests_per_connection, closed);
    if (!ok || closed) break;
  }
  return ok;
}

void CloseSocket(int fd) {
  ::shutdown(fd, SHUT_RDWR);
  ::close(fd);
}

// Counts the open connections; Admitted() is false above the cap.
class ConnectionSlot {
 public:
  ConnectionSlot(std::atomic<size_t>* open, size_t cap)
      : open_(open), admitted_(open->fetch_add(1) < cap) {}
  ~ConnectionSlot() { open_->fetch_sub(1); }
  bool Admitted() const { return admitted_; }

 private:
  std::atomic<size_t>* open_;
  const bool admitted_;
};

void Configure(httplib::Server* s, const HttpLimits& limits) {
  const size_t threads = limits.max_connections + kSpareThreads;
  s->new_task_queue = [threads] { return new GrowingTaskQueue(threads); };
  const auto io_s = std::chrono::duration_cast<std::chrono::seconds>(limits.io_timeout).count();
  s->set_read_timeout(std::max<time_t>(1, io_s));
  s->set_write_timeout(std::max<time_t>(1, io_s));
}

// cpp-httplib listens with a backlog of 5: a burst of connections (or a
// listening thread that waits for a CPU) overflows it, and every dropped
// handshake costs its client a 1 s retransmission.
constexpr int kListenBacklog = 1024;

class GuardedHttpServer final : public httplib::Server {
 public:
  explicit GuardedHttpServer(const HttpLimits& limits) : limits_(limits) {
    Configure(this, limits_);
  }
  bool WidenBacklog() { return ::listen(svr_sock_, kListenBacklog) == 0; }

 private:
  bool process_and_close_socket(socket_t sock) override {
    ConnectionSlot slot(&open_, limits_.max_connections);
    if (!slot.Admitted()) {
      static constexpr char kBusy[] =
          "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      (void)::send(sock, kBusy, sizeof(kBusy) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
      CloseSocket(sock);
      return false;
    }
    PlainStream stream(sock, limits_, &svr_sock_);
    const bool ok = ServeRequests(stream, limits_,
                                  [this](httplib::Stream& s, bool close_connection, bool& closed) {
                                    return process_request(s, close_connection, closed, nullptr);
                                  });
    CloseSocket(sock);
    return ok;
  }

  const HttpLimits limits_;
  std::atomic<size_t> open_{0};
};

class GuardedHttpsServer final : public httplib::SSLServer {
 public:
  GuardedHttpsServer(const HttpLimits& limits, const std::string& certificate,
                     const std::string& key, const std::string& client_cas)
      : httplib::SSLServer(certificate.c_str(), key.c_str(),
                           client_cas.empty() ? nullptr : client_cas.c_str()),
        limits_(limits) {
    Configure(this, limits_);
  }
  bool WidenBacklog() { return ::listen(svr_sock_, kListenBacklog) == 0; }

 private:
  bool process_and_close_socket(socket_t sock) override {
    ConnectionSlot slot(&open_, limits_.max_connections);
    SSL* ssl = slot.Admitted() ? SSL_new(ssl_context()) : nullptr;
    bool ok = false;
    if (ssl != nullptr && ::fcntl(sock, F_SETFL, ::fcntl(sock, F_GETFL) | O_NONBLOCK) == 0 &&
        SSL_set_fd(ssl, sock) == 1) {
      TlsStream stream(sock, ssl, limits_, &svr_sock_);
      if (stream.Handshake()) {
        ok = ServeRequests(
            stream, limits_, [this, ssl](httplib::Stream& s, bool close_connection, bool& closed) {
              return process_request(s, close_connection, closed,
                                     [ssl](httplib::Request& req) { req.ssl = ssl; });
            });
        if (ok) SSL_shutdown(ssl);  // Nonblocking: best effort.
      }
    }
    if (ssl != nullptr) SSL_free(ssl);
    CloseSocket(sock);
    return ok;
  }

  const HttpLimits limits_;
  std::atomic<size_t> open_{0};
};

}  // namespace

bool WidenListenBacklog(httplib::Server* server) {
  if (auto* plain = dynamic_cast<GuardedHttpServer*>(server)) return plain->WidenBacklog();
  if (auto* tls = dynamic_cast<GuardedHttpsServer*>(server)) return tls->WidenBacklog();
  return false;
}

Status ListenInBackground(httplib::Server* server, std::string_view what,
                          const std::string& address, int port, int* bound_port,
                          std::thread* thread, std::atomic<bool>* listen_returned) {
  *bound_port = port == 0 ? server->bind_to_any_port(address)
                          : (server->bind_to_port(address, port) ? port : -1);
  if (*bound_port <= 0) {
    *bound_port = 0;
    return Status::Unavailable(std::string(what) + ": cannot listen on " + address + ":" +
                               std::to_string(port));
  }
  WidenListenBacklog(server);
  *thread = std::thread([server, listen_returned] {
    server->listen_after_bind();
    *listen_returned = true;
  });
  // stop() does nothing until the listen loop runs, so a stop right after
  // the start would hang in join: wait (bounded) until it runs.
  for (int i = 0; i < 5000 && !server->is_running() && !*listen_returned; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!server->is_running()) {
    server->stop();
    thread->join();
    return Status::Unavailable(std::string(what) + ": listen loop did not start");
  }
  return Status::OK();
}

std::unique_ptr<httplib::Server> NewGuardedHttpServer(const HttpLimits& limits) {
  return std::make_unique<GuardedHttpServer>(limits);
}

std::unique_ptr<httplib::Server> NewGuardedHttpsServer(const HttpLimits& limits,
                                                       const std::string& certificate,
                                                       const std::string& key,
                                                       const std::string& client_cas) {
  return std::make_unique<GuardedHttpsServer>(limits, certificate, key, client_cas);
}

}  // namespace immudb::server
