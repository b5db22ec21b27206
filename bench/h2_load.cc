#include "bench/h2_load.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>
#include <string_view>

namespace immudb::bench {
namespace {

using Clock = std::chrono::steady_clock;

// The gRPC code of a reply whose HTTP status is not 200 (gRPC's mapping of
// HTTP statuses, doc/http-grpc-status-mapping.md of the gRPC repository).
grpc::StatusCode FromHttpStatus(int http) {
  switch (http) {
    case 400:
      return grpc::StatusCode::INTERNAL;
    case 401:
      return grpc::StatusCode::UNAUTHENTICATED;
    case 403:
      return grpc::StatusCode::PERMISSION_DENIED;
    case 404:
      return grpc::StatusCode::UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return grpc::StatusCode::UNAVAILABLE;
    default:
      return grpc::StatusCode::UNKNOWN;
  }
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// grpc-message is percent-encoded.
std::string PercentDecode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); i++) {
    if (in[i] == '%' && i + 2 < in.size() && HexDigit(in[i + 1]) >= 0 && HexDigit(in[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexDigit(in[i + 1]) * 16 + HexDigit(in[i + 2])));
      i += 2;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

nghttp2_nv Header(std::string_view name, std::string_view value) {
  return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                    value.size(), NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE};
}

// One worker's connection and its call in flight.
class Connection {
 public:
  Connection(const H2Target& target, LoadWorker* worker) : target_(target), worker_(worker) {
    authority_ = "127.0.0.1:" + std::to_string(target.port);
    bearer_ = "Bearer " + target.token;
    timeout_ = std::to_string(std::max<int64_t>(1, target.timeout.count())) + "m";
  }
  ~Connection() {
    if (session_ != nullptr) nghttp2_session_del(session_);
    if (fd_ >= 0) close(fd_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  int fd() const { return fd_; }
  // True while the worker has a call in flight on a live connection.
  bool busy() const { return stream_id_ > 0 && !dead_; }
  bool wants_write() const { return !out_.empty(); }

  // Connects, sends the connection preface and settings. "" or the error.
  std::string Open() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return std::string("socket: ") + std::strerror(errno);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(target_.port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
      return "connect to " + authority_ + ": " + std::strerror(errno);
    }
    const int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) | O_NONBLOCK);

    nghttp2_session_callbacks* cbs = nullptr;
    if (nghttp2_session_callbacks_new(&cbs) != 0) return "nghttp2: out of memory";
    nghttp2_session_callbacks_set_on_header_callback(cbs, &Connection::OnHeader);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, &Connection::OnData);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, &Connection::OnStreamClose);
    const int rv = nghttp2_session_client_new(&session_, cbs, this);
    nghttp2_session_callbacks_del(cbs);
    if (rv != 0) return std::string("nghttp2: ") + nghttp2_strerror(rv);
    // Windows large enough that replies never wait for a WINDOW_UPDATE.
    constexpr uint32_t kWindow = 16 << 20;
    const nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
                                               {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, kWindow}};
    if (nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, 2) != 0 ||
        nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, kWindow) != 0) {
      return "nghttp2: cannot submit the settings";
    }
    return "";
  }

  // Starts the worker's next call, if its run is not over, and sends what
  // the session has to send.
  void StartNext() {
    stream_id_ = 0;
    if (dead_ || !worker_->StartRaw(&body_)) {
      Flush();
      return;
    }
    body_sent_ = 0;
    reply_.clear();
    http_status_ = 0;
    grpc_status_ = -1;
    grpc_message_.clear();
    closed_ = false;
    reset_code_ = 0;
    const nghttp2_nv headers[] = {Header(":method", "POST"),
                                  Header(":scheme", "http"),
                                  Header(":path", worker_->MethodPath()),
                                  Header(":authority", authority_),
                                  Header("content-type", "application/grpc"),
                                  Header("te", "trailers"),
                                  Header("grpc-timeout", timeout_),
                                  Header("authorization", bearer_)};
    const size_t nheaders = target_.token.empty() ? 7 : 8;
    nghttp2_data_provider body;
    body.source.ptr = this;
    body.read_callback = &Connection::ReadBody;
    deadline_ = Clock::now() + target_.timeout;
    const int32_t id = nghttp2_submit_request(session_, nullptr, headers, nheaders, &body, this);
    if (id < 0) {
      // The server no longer takes streams (GOAWAY) or the session failed.
      stream_id_ = 1;
      Fail(grpc::StatusCode::UNAVAILABLE,
           std::string("cannot start a stream: ") + nghttp2_strerror(id));
      return;
    }
    stream_id_ = id;
    Flush();
  }

  // The socket is readable: feeds what it holds to the session, finishes
  // the call when its stream closed and starts the next one.
  void OnReadable() {
    uint8_t buf[64 << 10];
    const ssize_t n = read(fd_, buf, sizeof(buf));
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) {
      Fail(grpc::StatusCode::UNAVAILABLE,
           n == 0 ? "connection closed" : std::string("read: ") + std::strerror(errno));
      return;
    }
    const ssize_t used = nghttp2_session_mem_recv(session_, buf, static_cast<size_t>(n));
    if (used < 0) {
      Fail(grpc::StatusCode::INTERNAL,
           std::string("HTTP/2: ") + nghttp2_strerror(static_cast<int>(used)));
      return;
    }
    if (closed_) {
      Complete();
      StartNext();
    } else {
      Flush();  // WINDOW_UPDATE, SETTINGS and PING acknowledgements.
    }
  }

  // The socket is writable again: sends what is still pending.
  void OnWritable() { Write(); }

  // Gives up the call in flight when its deadline passed.
  void CheckDeadline(Clock::time_point now) {
    if (!busy() || now < deadline_) return;
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream_id_, NGHTTP2_CANCEL);
    worker_->FinishRaw(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "Deadline Exceeded"), {});
    StartNext();
  }

  // Ends the session politely (GOAWAY) when the connection is still up.
  void Close() {
    if (dead_ || session_ == nullptr) return;
    nghttp2_session_terminate_session(session_, NGHTTP2_NO_ERROR);
    Flush();
  }

 private:
  // Checks the closed stream's reply and hands it to the worker.
  void Complete() {
    if (http_status_ != 200 && http_status_ != 0) {
      worker_->FinishRaw(
          grpc::Status(FromHttpStatus(http_status_), "HTTP status " + std::to_string(http_status_)),
          {});
      return;
    }
    if (grpc_status_ < 0) {
      worker_->FinishRaw(
          grpc::Status(reset_code_ != 0 ? grpc::StatusCode::INTERNAL : grpc::StatusCode::UNKNOWN,
                       reset_code_ != 0
                           ? "stream reset, HTTP/2 error " + std::to_string(reset_code_)
                           : std::string("no grpc-status")),
          {});
      return;
    }
    if (grpc_status_ != 0) {
      worker_->FinishRaw(
          grpc::Status(static_cast<grpc::StatusCode>(grpc_status_), PercentDecode(grpc_message_)),
          {});
      return;
    }
    if (reply_.size() < 5 || reply_[0] != 0) {
      worker_->FinishRaw(
          grpc::Status(grpc::StatusCode::INTERNAL,
                       reply_.size() < 5 ? "no reply message" : "compressed reply message"),
          {});
      return;
    }
    const auto* p = reinterpret_cast<const uint8_t*>(reply_.data());
    const size_t len = (size_t{p[1]} << 24) | (size_t{p[2]} << 16) | (size_t{p[3]} << 8) | p[4];
    if (len != reply_.size() - 5) {
      worker_->FinishRaw(grpc::Status(grpc::StatusCode::INTERNAL, "not exactly one reply message"),
                         {});
      return;
    }
    worker_->FinishRaw(grpc::Status::OK, std::string_view(reply_).substr(5));
  }

  // The connection is unusable: fails the call in flight, if any, and makes
  // no more calls.
  void Fail(grpc::StatusCode code, const std::string& why) {
    if (busy()) worker_->FinishRaw(grpc::Status(code, why), {});
    dead_ = true;
    stream_id_ = 0;
    out_.clear();
  }

  // Serializes the session's pending frames and writes them.
  void Flush() {
    if (dead_) return;
    for (;;) {
      const uint8_t* data = nullptr;
      const ssize_t n = nghttp2_session_mem_send(session_, &data);
      if (n < 0) {
        Fail(grpc::StatusCode::INTERNAL,
             std::string("HTTP/2: ") + nghttp2_strerror(static_cast<int>(n)));
        return;
      }
      if (n == 0) break;
      out_.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
    }
    Write();
  }

  void Write() {
    while (!out_.empty()) {
      const ssize_t n = send(fd_, out_.data(), out_.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN) return;  // The caller polls for EPOLLOUT.
        if (errno == EINTR) continue;
        Fail(grpc::StatusCode::UNAVAILABLE, std::string("send: ") + std::strerror(errno));
        return;
      }
      out_.erase(0, static_cast<size_t>(n));
    }
  }

  static ssize_t ReadBody(nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* flags,
                          nghttp2_data_source* source, void*) {
    auto* c = static_cast<Connection*>(source->ptr);
    const size_t n = std::min(length, c->body_.size() - c->body_sent_);
    std::memcpy(buf, c->body_.data() + c->body_sent_, n);
    c->body_sent_ += n;
    if (c->body_sent_ == c->body_.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }

  static int OnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                      size_t namelen, const uint8_t* value, size_t valuelen, uint8_t, void* user) {
    auto* c = static_cast<Connection*>(user);
    if (frame->hd.type != NGHTTP2_HEADERS || frame->hd.stream_id != c->stream_id_) return 0;
    const std::string_view n(reinterpret_cast<const char*>(name), namelen);
    const std::string_view v(reinterpret_cast<const char*>(value), valuelen);
    if (n == ":status") {
      c->http_status_ = -1;
      std::from_chars(v.data(), v.data() + v.size(), c->http_status_);
    } else if (n == "grpc-status") {
      int code = -1;
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), code);
      c->grpc_status_ = ec == std::errc() && end == v.data() + v.size() && code >= 0 && code <= 16
                            ? code
                            : static_cast<int>(grpc::StatusCode::UNKNOWN);
    } else if (n == "grpc-message") {
      c->grpc_message_.assign(v);
    }
    return 0;
  }

  static int OnData(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data, size_t len,
                    void* user) {
    auto* c = static_cast<Connection*>(user);
    if (stream_id == c->stream_id_) c->reply_.append(reinterpret_cast<const char*>(data), len);
    return 0;
  }

  static int OnStreamClose(nghttp2_session*, int32_t stream_id, uint32_t error_code, void* user) {
    auto* c = static_cast<Connection*>(user);
    if (stream_id == c->stream_id_) {
      c->closed_ = true;
      c->reset_code_ = error_code;
    }
    return 0;
  }

  const H2Target& target_;
  LoadWorker* worker_;
  std::string authority_;
  std::string bearer_;
  std::string timeout_;
  int fd_ = -1;
  nghttp2_session* session_ = nullptr;
  bool dead_ = false;
  std::string out_;  // Bytes the socket did not take yet.

  // The call in flight.
  int32_t stream_id_ = 0;
  std::string body_;
  size_t body_sent_ = 0;
  Clock::time_point deadline_;
  std::string reply_;
  int http_status_ = 0;
  int grpc_status_ = -1;
  std::string grpc_message_;
  bool closed_ = false;
  uint32_t reset_code_ = 0;
};

}  // namespace

std::string RunH2(const H2Target& target, const std::vector<LoadWorker*>& workers) {
  if (target.address != "127.0.0.1" && target.address != "localhost") {
    return "the address must be 127.0.0.1 or localhost";
  }
  std::vector<std::unique_ptr<Connection>> conns;
  for (LoadWorker* w : workers) {
    conns.push_back(std::make_unique<Connection>(target, w));
    std::string error = conns.back()->Open();
    if (!error.empty()) return error;
  }
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) return std::string("epoll_create1: ") + std::strerror(errno);
  // What each connection's registration asks for: EPOLLOUT only while it has
  // bytes the socket did not take.
  std::vector<bool> polling_out(conns.size(), false);
  for (size_t i = 0; i < conns.size(); i++) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, conns[i]->fd(), &ev) != 0) {
      close(ep);
      return std::string("epoll_ctl: ") + std::strerror(errno);
    }
  }
  // After each event: a connection whose worker is done (or whose
  // connection ended) leaves the set, so that bytes nobody reads any more
  // cannot wake the loop; the others poll for EPOLLOUT while they have bytes
  // pending.
  size_t running = 0;
  std::vector<bool> busy(conns.size(), false);
  auto update = [&](size_t i) {
    if (!busy[i]) return;
    if (!conns[i]->busy()) {
      busy[i] = false;
      running--;
      epoll_ctl(ep, EPOLL_CTL_DEL, conns[i]->fd(), nullptr);
      return;
    }
    const bool want = conns[i]->wants_write();
    if (want == polling_out[i]) return;
    epoll_event ev{};
    ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
    ev.data.u64 = i;
    epoll_ctl(ep, EPOLL_CTL_MOD, conns[i]->fd(), &ev);
    polling_out[i] = want;
  };
  for (size_t i = 0; i < conns.size(); i++) {
    busy[i] = true;
    running++;
    conns[i]->StartNext();
    update(i);
  }
  constexpr auto kDeadlineCheck = std::chrono::milliseconds(50);
  auto next_check = Clock::now() + kDeadlineCheck;
  epoll_event events[64];
  auto last_event = Clock::now();
  while (running > 0) {
    const bool spin = target.poll.count() > 0 && Clock::now() - last_event < target.poll;
    const int n = epoll_wait(ep, events, 64, spin ? 0 : static_cast<int>(kDeadlineCheck.count()));
    if (n < 0 && errno != EINTR) break;
    if (n > 0 && target.poll.count() > 0) last_event = Clock::now();
    for (int k = 0; k < n; k++) {
      const size_t i = events[k].data.u64;
      if (!busy[i]) continue;
      Connection& c = *conns[i];
      if ((events[k].events & EPOLLOUT) != 0) c.OnWritable();
      if ((events[k].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0 && c.busy()) c.OnReadable();
      update(i);
    }
    const auto now = Clock::now();
    if (now >= next_check) {
      next_check = now + kDeadlineCheck;
      for (size_t i = 0; i < conns.size(); i++) {
        if (!busy[i]) continue;
        conns[i]->CheckDeadline(now);
        update(i);
      }
    }
  }
  for (auto& c : conns) c->Close();
  close(ep);
  return "";
}

}  // namespace immudb::bench
