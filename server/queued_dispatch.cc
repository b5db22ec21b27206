#include "server/queued_dispatch.h"

#include <grpcpp/impl/codegen/proto_utils.h>
#include <pthread.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "immudb/store.h"
#include "server/queued_methods.h"

namespace immudb::server {
namespace {

// Calls requested from gRPC ahead, per queue: each call taken is replaced at
// once, so this many are always waiting (calls beyond them wait in gRPC).
constexpr int kRequestedCalls = 64;

using ProtoTraits = grpc::SerializationTraits<google::protobuf::Message>;

// Parses `bytes` into `msg` (clearing it first); false when they do not parse.
bool Parse(grpc::ByteBuffer* bytes, google::protobuf::Message* msg) {
  msg->Clear();
  return ProtoTraits::Deserialize(bytes, msg).ok();
}

grpc::ByteBuffer Serialize(const google::protobuf::Message& msg) {
  grpc::ByteBuffer out;
  bool own = false;
  (void)ProtoTraits::Serialize(msg, &out, &own);
  return out;
}

std::atomic<bool> g_commit_here{true};

// The queue whose thread this is (null on other threads).
thread_local const QueuedQueue* t_queue = nullptr;

// The calls taken and not yet finished, per server. gRPC's Shutdown may
// return while a cancelled call's body still runs (a stream on the pool), and
// that body's Finish must not reach a queue already shut down: a server's
// queues shut down only once its count is 0.
std::mutex g_live_mu;
std::condition_variable g_live_cv;
std::unordered_map<const QueuedServer*, int64_t> g_live;

void CallTaken(const QueuedServer* s) {
  std::lock_guard<std::mutex> l(g_live_mu);
  g_live[s]++;
}
void CallEnded(const QueuedServer* s) {
  std::lock_guard<std::mutex> l(g_live_mu);
  if (--g_live[s] == 0) g_live_cv.notify_all();
}
void WaitNoLiveCalls(const QueuedServer* s) {
  std::unique_lock<std::mutex> l(g_live_mu);
  g_live_cv.wait(l, [s] { return g_live[s] == 0; });
  g_live.erase(s);
}

}  // namespace

void SetQueuedCommitHere(bool on) { g_commit_here.store(on); }

QueuedCall::QueuedCall(QueuedServer* server, QueuedQueue* queue) : server_(server), queue_(queue) {}

void QueuedCall::Request(QueuedServer* server, QueuedQueue* queue) {
  auto* c = new QueuedCall(server, queue);
  grpc::ServerCompletionQueue* cq = queue->cq.get();
  server->generic()->RequestCall(&c->ctx_, &c->stream_, cq, cq, &c->accepted_);
}

void QueuedCall::OnAccepted(bool ok) {
  if (!ok) {  // The server shut down before a call came.
    delete this;
    return;
  }
  CallTaken(server_);
  Request(server_, queue_);  // Takes this one's place for the next call.
  method_ = server_->Find(ctx_.method());
  if (method_ == nullptr) {
    stream_.Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "unknown method " + ctx_.method()),
                   &finished_);
    return;
  }
  if (method_->response != nullptr) response_.reset(method_->response->New());
  if (method_->kind == QueuedMethod::kUnary || method_->kind == QueuedMethod::kServerStream) {
    request_.reset(method_->request->New());
    stream_.Read(&in_, &request_read_);
    return;
  }
  method_->serve(this);
}

void QueuedCall::OnRequestRead(bool ok) {
  if (!ok) {
    stream_.Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request message"),
                   &finished_);
    return;
  }
  if (!Parse(&in_, request_.get())) {
    stream_.Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                "the request is not a valid " + request_->GetTypeName()),
                   &finished_);
    return;
  }
  method_->serve(this);
}

void QueuedCall::Finish(grpc::Status status) {
  if (t_queue == queue_) {
    Send(std::move(status));
  } else {
    queue_->Hand(this, std::move(status));
  }
}

void QueuedQueue::Hand(QueuedCall* call, grpc::Status status) {
  call->handed_status_ = std::move(status);
  bool arm = false;
  {
    std::lock_guard<std::mutex> l(mu);
    call->handed_next_ = box_head;
    box_head = call;
    arm = !armed;
    armed = true;
  }
  // Set outside the lock: no other thread sets it while `armed` holds, and
  // the queue's thread takes its tag only after this. A deadline in the past
  // posts the tag now, from this thread.
  if (arm) alarm.Set(cq.get(), gpr_inf_past(GPR_CLOCK_MONOTONIC), static_cast<QueuedTag*>(this));
}

void QueuedQueue::Done(bool) {
  QueuedCall* calls = nullptr;
  {
    std::lock_guard<std::mutex> l(mu);
    calls = box_head;
    box_head = nullptr;
    armed = false;  // Calls handed from now on set the alarm again.
    wakeups++;
    for (QueuedCall* c = calls; c != nullptr; c = c->handed_next_) handed++;
  }
  // Oldest first.
  QueuedCall* oldest_first = nullptr;
  while (calls != nullptr) {
    QueuedCall* next = calls->handed_next_;
    calls->handed_next_ = oldest_first;
    oldest_first = calls;
    calls = next;
  }
  while (oldest_first != nullptr) {
    QueuedCall* c = oldest_first;
    oldest_first = c->handed_next_;
    c->Send(std::move(c->handed_status_));  // May delete c.
  }
}

void QueuedCall::Send(grpc::Status status) {
  if (parse_failed_) {
    status = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "a streamed message did not parse: " + status.error_message());
  }
  if (status.ok() && response_ != nullptr) {
    stream_.WriteAndFinish(Serialize(*response_), grpc::WriteOptions(), status, &finished_);
  } else {
    stream_.Finish(status, &finished_);
  }
}

void QueuedCall::OnFinished(bool) {
  const QueuedServer* server = server_;
  delete this;
  CallEnded(server);
}

void QueuedCall::SendInitialMetadata() {
  metadata_.waiter.Begin();
  stream_.SendInitialMetadata(&metadata_);
  metadata_.waiter.Wait();
}

bool QueuedCall::Read(google::protobuf::Message* msg) {
  grpc::ByteBuffer bytes;
  read_.waiter.Begin();
  stream_.Read(&bytes, &read_);
  if (!read_.waiter.Wait()) return false;
  if (Parse(&bytes, msg)) return true;
  parse_failed_ = true;
  return false;
}

bool QueuedCall::Write(const google::protobuf::Message& msg, grpc::WriteOptions options) {
  write_.waiter.Begin();
  stream_.Write(Serialize(msg), options, &write_);
  return write_.waiter.Wait();
}

QueuedServer::QueuedServer(std::vector<QueuedMethod> methods, grpc::ServerBuilder* builder,
                           int threads) {
  for (QueuedMethod& m : methods) {
    std::string path = m.path;
    methods_.emplace(std::move(path), std::move(m));
  }
  builder->RegisterAsyncGenericService(&generic_);
  for (int i = 0; i < threads; i++) {
    queues_.push_back(std::make_unique<QueuedQueue>());
    queues_.back()->cq = builder->AddCompletionQueue();
  }
}

QueuedServer::~QueuedServer() { Shutdown(); }

const QueuedMethod* QueuedServer::Find(const std::string& path) const {
  auto it = methods_.find(path);
  return it == methods_.end() ? nullptr : &it->second;
}

QueuedServer::HandStats QueuedServer::hand_stats() {
  HandStats s;
  for (auto& q : queues_) {
    std::lock_guard<std::mutex> l(q->mu);
    s.handed += q->handed;
    s.wakeups += q->wakeups;
  }
  return s;
}

void QueuedServer::Start() {
  started_ = true;
  // The calls are requested here, before Start returns, so that a Shutdown
  // right after it never finds a queue thread still requesting them: a call
  // requested on a queue already shut down aborts in gRPC.
  for (auto& q : queues_) {
    for (int i = 0; i < kRequestedCalls; i++) QueuedCall::Request(this, q.get());
  }
  for (auto& q : queues_) threads_.emplace_back([this, q = q.get()] { Run(q); });
}

void QueuedServer::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  // The threads still serve them, and answer those handed to them.
  if (started_) WaitNoLiveCalls(this);
  for (auto& q : queues_) q->cq->Shutdown();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
  if (!started_) {  // Queues no thread drained (the server did not start).
    void* tag = nullptr;
    bool ok = false;
    for (auto& q : queues_) {
      while (q->cq->Next(&tag, &ok)) static_cast<QueuedTag*>(tag)->Done(ok);
    }
  }
}

void QueuedServer::Run(QueuedQueue* q) {
  pthread_setname_np(pthread_self(), "immudb-grpc");
  t_queue = q;
  grpc::ServerCompletionQueue* cq = q->cq.get();
  void* tag = nullptr;
  bool ok = false;
  while (cq->Next(&tag, &ok)) {
    // Everything ready now is served as one group: the commits its Sets
    // queue are led here when the scope ends (unless another thread leads
    // them already), and their calls answered from here.
    std::optional<CommitHere> group;
    if (g_commit_here.load(std::memory_order_relaxed)) group.emplace();
    static_cast<QueuedTag*>(tag)->Done(ok);
    while (cq->AsyncNext(&tag, &ok, gpr_time_0(GPR_CLOCK_MONOTONIC)) ==
           grpc::CompletionQueue::GOT_EVENT) {
      static_cast<QueuedTag*>(tag)->Done(ok);
    }
  }
}

}  // namespace immudb::server
