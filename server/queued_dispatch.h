// Serving the gRPC methods from completion queues of our own
// (--grpc-dispatch=queues, the default; --grpc-dispatch=callback serves them
// through gRPC's callback API instead, server/callback.h).
//
// No service is registered with gRPC: one grpc::AsyncGenericService takes
// every call, and QueuedServer's threads, each on a ServerCompletionQueue of
// its own, read each call's method path, look it up in a table of
// QueuedMethod (server/queued_methods.cc), read and parse the request, run
// the method's handler body (the same Do<name> functions the callback API
// runs) and send the reply. With no other gRPC poller in the process, the
// thread that reads a request is the one that answers it when the handler
// answers at once, and a Set queued to the store is committed by that thread
// at the end of its group of ready calls (store::CommitHere), which then
// sends the replies itself.
//
// Handlers answer a unary call once with QueuedCall::Finish, from any thread
// (inline, a BlockingPool thread, a store's committing thread). A call
// finished by a thread other than its queue's is handed to that queue's
// thread, which sends the reply: the calls finished while it was busy (the
// replies of one committed group of Sets) cost one wake-up of it together,
// and their sends and completions run where the calls are read. Streaming
// bodies keep their blocking shape: they run on a BlockingPool thread over
// ServerReaderInterface / ServerWriterInterface adapters whose Read and
// Write start the stream's operation and wait for its completion.
#pragma once

#include <google/protobuf/message.h>
#include <grpcpp/alarm.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/support/sync_stream.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "server/callback.h"

namespace immudb::server {

class QueuedCall;
class QueuedServer;
struct QueuedQueue;

// One method as served from the queues.
struct QueuedMethod {
  enum Kind { kUnary, kServerStream, kClientStream, kBidi };
  std::string path;  // "/immudb.schema.ImmuService/Get"
  Kind kind = kUnary;
  // Prototypes of the request (unary and server streams: read before
  // `serve` runs) and of the reply (unary and client streams); else null.
  const google::protobuf::Message* request = nullptr;
  const google::protobuf::Message* response = nullptr;
  // Runs on the queue thread once the request (if any) is parsed; answers
  // the call with QueuedCall::Finish, now or later, from any thread.
  std::function<void(QueuedCall*)> serve;
};

// A completion of ours: the queue's thread calls Done with gRPC's `ok`.
class QueuedTag {
 public:
  virtual void Done(bool ok) = 0;

 protected:
  ~QueuedTag() = default;
};

// One call taken from the generic service; deletes itself once finished.
class QueuedCall {
 public:
  // Asks gRPC for the next call on `queue` (one of `server`'s).
  static void Request(QueuedServer* server, QueuedQueue* queue);

  grpc::GenericServerContext* ctx() { return &ctx_; }
  const QueuedMethod* method() const { return method_; }
  // The parsed request (unary and server streams) and the reply to fill
  // (unary and client streams), of the method's types.
  google::protobuf::Message* request() { return request_.get(); }
  google::protobuf::Message* response() { return response_.get(); }

  // Answers the call once, from any thread: the reply (when the method has
  // one and `status` is OK) and the status. A stream whose request could not
  // be parsed ends INVALID_ARGUMENT whatever `status` says. From a thread
  // other than the call's queue thread the answer is sent by that thread
  // (QueuedQueue::Hand); the call's messages must stay as they are until then.
  void Finish(grpc::Status status);

  // For a streaming body on a pool thread: one operation of each kind at a
  // time, each waiting for its completion. Read returns false at the end of
  // the client's stream, on a broken call, and for bytes that do not parse.
  void SendInitialMetadata();
  bool Read(google::protobuf::Message* msg);
  bool Write(const google::protobuf::Message& msg, grpc::WriteOptions options);

 private:
  friend struct QueuedQueue;
  QueuedCall(QueuedServer* server, QueuedQueue* queue);
  // Finish's sending part, on any thread.
  void Send(grpc::Status status);

  class Tag final : public QueuedTag {
   public:
    Tag(QueuedCall* call, void (QueuedCall::*fn)(bool)) : call_(call), fn_(fn) {}
    void Done(bool ok) override { (call_->*fn_)(ok); }

   private:
    QueuedCall* call_;
    void (QueuedCall::*fn_)(bool);
  };

  void OnAccepted(bool ok);
  void OnRequestRead(bool ok);
  void OnFinished(bool ok);

  QueuedServer* server_;
  QueuedQueue* queue_;
  grpc::GenericServerContext ctx_;
  grpc::GenericServerAsyncReaderWriter stream_{&ctx_};
  const QueuedMethod* method_ = nullptr;
  std::unique_ptr<google::protobuf::Message> request_;
  std::unique_ptr<google::protobuf::Message> response_;
  grpc::ByteBuffer in_;
  grpc::Status handed_status_;  // Finish's status while the call waits in its queue's box.
  QueuedCall* handed_next_ = nullptr;
  bool parse_failed_ = false;  // A streamed message did not parse.
  Tag accepted_{this, &QueuedCall::OnAccepted};
  Tag request_read_{this, &QueuedCall::OnRequestRead};
  Tag finished_{this, &QueuedCall::OnFinished};
  // The blocking operations of streaming bodies.
  class WaitTag final : public QueuedTag {
   public:
    void Done(bool ok) override { waiter.Done(ok); }
    callback_internal::OpWaiter waiter;
  };
  WaitTag metadata_, read_, write_;
};

// One completion queue, its thread, and the box of calls other threads
// finished for that thread to answer.
struct QueuedQueue final : public QueuedTag {
  std::unique_ptr<grpc::ServerCompletionQueue> cq;

  // Answers `call` (finished with `status` on another thread) from this
  // queue's thread: queued in the box, and the thread woken (an alarm on its
  // queue) unless a wake-up is already on its way.
  void Hand(QueuedCall* call, grpc::Status status);
  // On the queue's thread: the wake-up came; answers every call in the box.
  void Done(bool ok) override;

  std::mutex mu;
  QueuedCall* box_head = nullptr;  // Newest first.
  bool armed = false;              // The alarm is set and its tag not yet taken.
  grpc::Alarm alarm;
  uint64_t wakeups = 0;  // Alarms taken (under mu; for tests).
  uint64_t handed = 0;   // Calls answered through the box (under mu; for tests).
};

// The queues and their threads.
class QueuedServer {
 public:
  // Registers the generic service with `builder` and adds `threads`
  // completion queues, serving `methods`.
  QueuedServer(std::vector<QueuedMethod> methods, grpc::ServerBuilder* builder, int threads);
  // Shutdown first (it is called if not).
  ~QueuedServer();
  QueuedServer(const QueuedServer&) = delete;
  QueuedServer& operator=(const QueuedServer&) = delete;

  // After the gRPC server started: one thread per queue.
  void Start();
  // After the gRPC server's Shutdown returned (no call left): shuts the
  // queues down, drains them and joins their threads. Idempotent.
  void Shutdown();

  // The method at `path`, or null.
  const QueuedMethod* Find(const std::string& path) const;
  grpc::AsyncGenericService* generic() { return &generic_; }

  // Calls answered through the boxes of the queues, and the wake-ups that
  // answered them (for tests).
  struct HandStats {
    uint64_t handed = 0;
    uint64_t wakeups = 0;
  };
  HandStats hand_stats();

 private:
  void Run(QueuedQueue* q);

  grpc::AsyncGenericService generic_;
  std::unordered_map<std::string, QueuedMethod> methods_;
  std::vector<std::unique_ptr<QueuedQueue>> queues_;
  std::vector<std::thread> threads_;
  bool started_ = false;
  bool shut_down_ = false;
};

// The forms of server/callback.h's FinishInline, FinishOnPool and FinishWrite
// for a call from our queues.

// Answers `q` now, on the calling queue thread, with `body()`'s status.
template <class Body>
void FinishInline(QueuedCall* q, Body body) {
  q->Finish(body());
}

// Runs `body` on `pool` and answers `q` with its status.
template <class Body>
void FinishOnPool(BlockingPool* pool, QueuedCall* q, Body body) {
  pool->Submit([q, body = std::move(body)] { q->Finish(body()); });
}

// A write: always on `pool` (a queue thread waiting for a commit would stall
// every call of its queue), whatever `inline_busy` says.
template <class Body>
void FinishWrite(BlockingPool* pool, std::atomic<bool>* /*inline_busy*/, QueuedCall* q, Body body) {
  FinishOnPool(pool, q, std::move(body));
}

// The ServerReaderInterface / ServerWriterInterface of a streaming body over
// a queued call.
template <class W>
class QueuedWriter final : public grpc::ServerWriterInterface<W> {
 public:
  explicit QueuedWriter(QueuedCall* c) : c_(c) {}
  void SendInitialMetadata() override { c_->SendInitialMetadata(); }
  bool Write(const W& msg, grpc::WriteOptions options) override { return c_->Write(msg, options); }

 private:
  QueuedCall* c_;
};

template <class R>
class QueuedReader final : public grpc::ServerReaderInterface<R> {
 public:
  explicit QueuedReader(QueuedCall* c) : c_(c) {}
  void SendInitialMetadata() override { c_->SendInitialMetadata(); }
  bool NextMessageSize(uint32_t* sz) override {
    *sz = UINT32_MAX;  // Unknown before the read; the receive limit still applies.
    return true;
  }
  bool Read(R* msg) override { return c_->Read(msg); }

 private:
  QueuedCall* c_;
};

template <class W, class R>
class QueuedReaderWriter final : public grpc::ServerReaderWriterInterface<W, R> {
 public:
  explicit QueuedReaderWriter(QueuedCall* c) : c_(c) {}
  void SendInitialMetadata() override { c_->SendInitialMetadata(); }
  bool NextMessageSize(uint32_t* sz) override {
    *sz = UINT32_MAX;
    return true;
  }
  bool Read(R* msg) override { return c_->Read(msg); }
  bool Write(const W& msg, grpc::WriteOptions options) override { return c_->Write(msg, options); }

 private:
  QueuedCall* c_;
};

}  // namespace immudb::server
