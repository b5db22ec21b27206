// Adapters between gRPC's callback API and handler bodies written as plain
// blocking functions.
//
// The server registers every method with the callback API: gRPC then runs no
// thread per call, and a handler either answers at once on the gRPC thread
// that read the request (Inline: short reads) or hands the call to a
// BlockingPool thread (Blocking: writes, which wait for their fsync and their
// index update; anything else that may wait or take long, such as password
// hashing and scans). Streaming bodies keep their blocking shape: they get a
// grpc::ServerReaderInterface / ServerWriterInterface whose Read and Write
// start the reactor's operation and wait for its completion, on a pool thread.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <utility>

#include "server/blocking_pool.h"

namespace immudb::server {

// Answers a unary call now, on the calling gRPC thread.
template <class Body>
grpc::ServerUnaryReactor* FinishInline(grpc::CallbackServerContext* ctx, Body body) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(body());
  return reactor;
}

// Runs a unary call's body on `pool` and finishes the call with its status.
template <class Body>
grpc::ServerUnaryReactor* FinishOnPool(BlockingPool* pool, grpc::CallbackServerContext* ctx,
                                       Body body) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  pool->Submit([reactor, body = std::move(body)] { reactor->Finish(body()); });
  return reactor;
}

// A write: runs on the calling gRPC thread when `*inline_busy` was false (and
// sets it for the duration), else on `pool`. One write at a time blocks a
// gRPC thread, so a single client's write costs no hand-off while concurrent
// writes still leave the gRPC threads free.
template <class Body>
grpc::ServerUnaryReactor* FinishWrite(BlockingPool* pool, std::atomic<bool>* inline_busy,
                                      grpc::CallbackServerContext* ctx, Body body) {
  if (inline_busy->exchange(true, std::memory_order_acquire)) {
    return FinishOnPool(pool, ctx, std::move(body));
  }
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  grpc::Status status = body();
  inline_busy->store(false, std::memory_order_release);
  reactor->Finish(status);
  return reactor;
}

// A unary reactor that deletes itself once gRPC is done with it, for a call
// finished later by another thread. Unlike the default reactor, one can be
// made and then dropped (deleted) without being returned to gRPC.
//
// Its reactions are trivial (OnDone deletes it, OnCancel does nothing), so it
// tells gRPC that they may run on whichever thread completes the call, as the
// default reactor's do: otherwise gRPC hands every OnDone, and with it the
// call's clean-up, to its executor thread, a thread switch per call.
class OwnedUnaryReactor final : public grpc::ServerUnaryReactor {
 public:
  void OnDone() override { delete this; }
  bool InternalInlineable() override { return true; }
};

namespace callback_internal {

// One outstanding reactor operation at a time, waited for by the body's
// thread: Begin before starting it, Wait for its reaction's `ok`.
class OpWaiter {
 public:
  void Begin() {
    std::lock_guard<std::mutex> l(mu_);
    done_ = false;
  }
  void Done(bool ok) {
    {
      std::lock_guard<std::mutex> l(mu_);
      ok_ = ok;
      done_ = true;
    }
    cv_.notify_one();
  }
  bool Wait() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [this] { return done_; });
    return ok_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = true;
  bool ok_ = false;
};

// The blocking stream operations over a reactor `Base` (ServerWriteReactor,
// ServerReadReactor or ServerBidiReactor), for the interface `Iface` the body
// uses. Each reactor deletes itself in OnDone, which gRPC calls only after
// Finish and after every started operation has reacted.
template <class Base, class Iface>
class BlockingStream : public Base, public Iface {
 public:
  void SendInitialMetadata() override {
    metadata_.Begin();
    this->StartSendInitialMetadata();
    metadata_.Wait();
  }
  void OnSendInitialMetadataDone(bool ok) override { metadata_.Done(ok); }
  void OnDone() override { delete this; }

 protected:
  template <class R>
  bool ReadNow(R* msg) {
    read_.Begin();
    this->StartRead(msg);
    return read_.Wait();
  }
  template <class W>
  bool WriteNow(const W& msg, grpc::WriteOptions options) {
    write_.Begin();
    this->StartWrite(&msg, options);
    return write_.Wait();
  }

  OpWaiter metadata_, read_, write_;
};

}  // namespace callback_internal

// Runs `body(reactor)` (returning grpc::Status; the reactor is the body's
// stream interface) on `pool`, then finishes the call with its status.
template <class Reactor, class Body>
Reactor* StartBlockingStream(BlockingPool* pool, Body body) {
  auto* r = new Reactor();
  pool->Submit([r, body = std::move(body)] { r->Finish(body(r)); });
  return r;
}

// A server-streaming call whose body writes through ServerWriterInterface.
template <class W>
class BlockingWriteReactor final
    : public callback_internal::BlockingStream<grpc::ServerWriteReactor<W>,
                                               grpc::ServerWriterInterface<W>> {
 public:
  bool Write(const W& msg, grpc::WriteOptions options) override {
    return this->WriteNow(msg, options);
  }
  void OnWriteDone(bool ok) override { this->write_.Done(ok); }
};

// A client-streaming call whose body reads through ServerReaderInterface.
template <class R>
class BlockingReadReactor final
    : public callback_internal::BlockingStream<grpc::ServerReadReactor<R>,
                                               grpc::ServerReaderInterface<R>> {
 public:
  bool NextMessageSize(uint32_t* sz) override {
    *sz = UINT32_MAX;  // Unknown before the read; the receive limit still applies.
    return true;
  }
  bool Read(R* msg) override { return this->ReadNow(msg); }
  void OnReadDone(bool ok) override { this->read_.Done(ok); }
};

// A bidirectional call whose body reads and writes through
// ServerReaderWriterInterface (one read and one write may be outstanding at
// once, as with the synchronous API).
template <class W, class R>
class BlockingBidiReactor final
    : public callback_internal::BlockingStream<grpc::ServerBidiReactor<R, W>,
                                               grpc::ServerReaderWriterInterface<W, R>> {
 public:
  bool NextMessageSize(uint32_t* sz) override {
    *sz = UINT32_MAX;
    return true;
  }
  bool Read(R* msg) override { return this->ReadNow(msg); }
  bool Write(const W& msg, grpc::WriteOptions options) override {
    return this->WriteNow(msg, options);
  }
  void OnReadDone(bool ok) override { this->read_.Done(ok); }
  void OnWriteDone(bool ok) override { this->write_.Done(ok); }
};

}  // namespace immudb::server
