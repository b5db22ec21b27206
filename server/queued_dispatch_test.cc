// --grpc-dispatch=queues (the default): the method table against the
// services' descriptors, and what only the generic service does (unknown
// methods, request bytes that do not parse, shutdown with calls in flight),
// and the calls other threads finish, answered by the queue's thread.
// The other server tests run against both modes (the callback.* CTest
// entries run them with --grpc-dispatch=callback).
#include <google/protobuf/descriptor.h>
#include <grpcpp/generic/generic_stub.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "server/queued_methods.h"
#include "server/stream_framing.h"
#include "server/test_fixture.h"

namespace immudb::server {
namespace {

TEST(QueuedMethodsTest, EveryMethodOfBothServicesWithItsKindAndTypes) {
  ServerState state;
  ImmuServiceImpl immu(&state);
  AuthorizationServiceImpl auth(&immu);
  const std::vector<QueuedMethod> methods = QueuedMethods(&immu, &auth);
  std::set<std::string> paths;
  for (const QueuedMethod& m : methods) {
    EXPECT_TRUE(paths.insert(m.path).second) << "twice: " << m.path;
    EXPECT_TRUE(m.serve) << m.path;
  }
  size_t described = 0;
  for (const char* name : {"immudb.schema.ImmuService", "immudb.model.AuthorizationService"}) {
    const google::protobuf::ServiceDescriptor* svc =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
    ASSERT_NE(svc, nullptr) << name;
    for (int i = 0; i < svc->method_count(); i++) {
      const google::protobuf::MethodDescriptor* md = svc->method(i);
      const std::string path = "/" + svc->full_name() + "/" + md->name();
      described++;
      const QueuedMethod* m = nullptr;
      for (const QueuedMethod& e : methods) m = e.path == path ? &e : m;
      ASSERT_NE(m, nullptr) << "missing: " << path;
      const QueuedMethod::Kind kind =
          md->client_streaming()
              ? (md->server_streaming() ? QueuedMethod::kBidi : QueuedMethod::kClientStream)
              : (md->server_streaming() ? QueuedMethod::kServerStream : QueuedMethod::kUnary);
      EXPECT_EQ(m->kind, kind) << path;
      if (!md->client_streaming()) {
        ASSERT_NE(m->request, nullptr) << path;
        EXPECT_EQ(m->request->GetDescriptor(), md->input_type()) << path;
      }
      if (!md->server_streaming()) {
        ASSERT_NE(m->response, nullptr) << path;
        EXPECT_EQ(m->response->GetDescriptor(), md->output_type()) << path;
      }
    }
  }
  EXPECT_EQ(methods.size(), described);
}

class QueuedDispatchTest : public ServerFixture {
 protected:
  void Configure(ServerConfig* c) override { c->grpc_dispatch = "queues"; }

  // A unary call of `path` with `request` as its raw bytes.
  grpc::Status RawCall(const std::string& path, const std::string& request,
                       std::string* reply = nullptr) {
    grpc::GenericStub stub(channel_);
    grpc::ClientContext ctx;
    grpc::Slice slice(request);
    grpc::ByteBuffer in(&slice, 1), out;
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    grpc::Status st;
    stub.UnaryCall(&ctx, path, grpc::StubOptions(), &in, &out, [&](grpc::Status s) {
      std::lock_guard<std::mutex> l(mu);
      st = std::move(s);
      done = true;
      cv.notify_one();
    });
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [&] { return done; });
    if (reply != nullptr && st.ok()) {
      std::vector<grpc::Slice> slices;
      EXPECT_TRUE(out.Dump(&slices).ok());
      reply->clear();
      for (const grpc::Slice& s : slices) reply->append(s.begin(), s.end());
    }
    return st;
  }
};

TEST_F(QueuedDispatchTest, UnknownMethodsAreUnimplemented) {
  for (const char* path : {"/immudb.schema.ImmuService/NoSuchMethod", "/no.such.Service/Get",
                           "/immudb.schema.ImmuService/"}) {
    grpc::Status st = RawCall(path, "");
    EXPECT_EQ(st.error_code(), grpc::StatusCode::UNIMPLEMENTED) << path;
  }
  // The server keeps serving.
  EXPECT_FALSE(Login().empty());
}

TEST_F(QueuedDispatchTest, RequestBytesThatDoNotParseAreInvalidArgument) {
  const std::string token = Login();
  // A field 1 (kvs, length-delimited) whose length runs past the end.
  grpc::Status st = RawCall("/immudb.schema.ImmuService/Set", std::string("\x0a\x7f\x01", 3));
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
  st = RawCall("/immudb.schema.ImmuService/Login", std::string("\xff\xff\xff\xff", 4));
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
  // Nothing was written, and the server keeps serving.
  schema::KeyRequest kr;
  kr.set_key("k");
  schema::Entry e;
  grpc::Status missing = stub_->Get(Ctx(token).get(), kr, &e);
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.error_message().find("key not found"), std::string::npos)
      << missing.error_message();
  ASSERT_TRUE(SetKey(token, "k", "v").ok());
  ASSERT_TRUE(stub_->Get(Ctx(token).get(), kr, &e).ok());
  EXPECT_EQ(e.value(), "v");
}

// A server started with the default configuration (whatever the CTest run's
// IMMUDB_GRPC_DISPATCH says) serves from the queues.
class DefaultDispatchTest : public QueuedDispatchTest {
 protected:
  void Configure(ServerConfig* c) override { c->grpc_dispatch = ServerConfig().grpc_dispatch; }
};

TEST_F(DefaultDispatchTest, IsQueuesAndAnswersUnparsableRequestsInvalidArgument) {
  EXPECT_EQ(ServerConfig().grpc_dispatch, "queues");
  EXPECT_EQ(ServerConfig().grpc_dispatch_threads, 1);
  const std::string token = Login();
  grpc::Status st = RawCall("/immudb.schema.ImmuService/Set", std::string("\x0a\x7f\x01", 3));
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
  st = RawCall("/immudb.schema.ImmuService/Get", std::string("\x0a\x05"
                                                             "ab",
                                                             4));
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
  // Well-formed calls still work.
  ASSERT_TRUE(SetKey(token, "k", "v").ok());
  schema::KeyRequest kr;
  kr.set_key("k");
  schema::Entry e;
  ASSERT_TRUE(stub_->Get(Ctx(token).get(), kr, &e).ok());
  EXPECT_EQ(e.value(), "v");
}

TEST_F(QueuedDispatchTest, RawUnaryCallGetsTheHandlersReply) {
  schema::LoginRequest req;
  req.set_user("immudb");
  req.set_password("immudb");
  std::string reply;
  grpc::Status st = RawCall("/immudb.schema.ImmuService/Login", req.SerializeAsString(), &reply);
  ASSERT_TRUE(st.ok()) << st.error_message();
  schema::LoginResponse resp;
  ASSERT_TRUE(resp.ParseFromString(reply));
  EXPECT_FALSE(resp.token().empty());
}

TEST_F(QueuedDispatchTest, HeadersAndStreamsAsThroughTheCallbackApi) {
  const std::string token = Login();
  auto ctx = Ctx(token);
  schema::SetRequest set;
  auto* kv = set.add_kvs();
  kv->set_key("streamed");
  kv->set_value(std::string(100000, 'v'));
  schema::TxHeader hdr;
  ASSERT_TRUE(stub_->Set(ctx.get(), set, &hdr).ok());
  auto uuid = ctx->GetServerInitialMetadata().find("immudb-uuid");
  ASSERT_NE(uuid, ctx->GetServerInitialMetadata().end());
  EXPECT_EQ(std::string(uuid->second.data(), uuid->second.size()), server_->uuid());

  // A server stream (streamGet: key, then value, framed in chunks).
  auto gctx = Ctx(token);
  schema::KeyRequest kr;
  kr.set_key("streamed");
  auto reader = stub_->streamGet(gctx.get(), kr);
  StreamReader in([&](schema::Chunk* c) { return reader->Read(c); });
  std::vector<std::string> msgs;
  for (;;) {
    auto m = in.Next();
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    if (!m->has_value()) break;
    msgs.push_back(**m);
  }
  grpc::Status st = reader->Finish();
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0], "streamed");
  EXPECT_EQ(msgs[1], std::string(100000, 'v'));
  EXPECT_NE(gctx->GetServerInitialMetadata().find("immudb-uuid"),
            gctx->GetServerInitialMetadata().end());

  // A client stream whose chunks do not parse as framed messages.
  auto sctx = Ctx(token);
  schema::TxHeader out;
  auto writer = stub_->streamSet(sctx.get(), &out);
  schema::Chunk chunk;
  chunk.set_content("\x01");
  writer->Write(chunk);
  writer->WritesDone();
  EXPECT_FALSE(writer->Finish().ok());
}

TEST_F(QueuedDispatchTest, ShutdownWithCallsInFlight) {
  const std::string token = Login();
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<std::string> written;  // Keys whose Set returned OK.
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; t++) {
    writers.emplace_back([&, t] {
      for (int i = 0; !stop.load(); i++) {
        const std::string key = "k" + std::to_string(t) + "_" + std::to_string(i);
        grpc::ClientContext ctx;
        ctx.AddMetadata("authorization", "Bearer " + token);
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
        schema::SetRequest set;
        auto* kv = set.add_kvs();
        kv->set_key(key);
        kv->set_value("v");
        schema::TxHeader hdr;
        if (!stub_->Set(&ctx, set, &hdr).ok()) return;  // The server went away.
        std::lock_guard<std::mutex> l(mu);
        written.push_back(key);
      }
    });
  }
  // A client stream left open: shutdown cancels it.
  auto sctx = Ctx(token);
  schema::TxHeader out;
  auto open_stream = stub_->streamSet(sctx.get(), &out);
  schema::Chunk chunk;
  chunk.set_content(EncodeU64(3) + "key");
  ASSERT_TRUE(open_stream->Write(chunk));
  for (;;) {  // Until Sets are in flight.
    {
      std::lock_guard<std::mutex> l(mu);
      if (written.size() >= 20) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(server_->Shutdown().ok());
  stop = true;
  for (std::thread& t : writers) t.join();
  EXPECT_FALSE(open_stream->Finish().ok());

  // Every Set answered OK is there after a restart.
  server_.reset();
  StartServer();
  const std::string token2 = Login();
  for (const std::string& key : written) {
    schema::KeyRequest kr;
    kr.set_key(key);
    schema::Entry e;
    ASSERT_TRUE(stub_->Get(Ctx(token2).get(), kr, &e).ok()) << key;
  }
}

// A QueuedServer of two test methods on one queue, without the services:
// "Hold" keeps its calls for the test to finish from its own thread, "Block"
// blocks the queue's thread until released, "Echo" answers inline.
// gRPC's callback API (the test's clients) runs on one process-wide
// completion queue with threads of its own, created with the first channel
// that makes a callback call and torn down when the last such channel goes.
// Tearing it down and making it again between tests raced inside gRPC 1.51
// (an ASan double free in grpc_cq_internal_unref on one of its threads,
// docs/testing.md), so one channel that made such a call is kept for the
// whole process.
void KeepCallbackQueueUp() {
  // Reachable until the process exits (not a leak to LeakSanitizer).
  static std::shared_ptr<grpc::Channel>* const keeper = [] {
    auto* channel = new std::shared_ptr<grpc::Channel>(
        grpc::CreateChannel("127.0.0.1:1", grpc::InsecureChannelCredentials()));
    grpc::GenericStub stub(*channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(50));
    grpc::Slice empty(std::string{});
    grpc::ByteBuffer in(&empty, 1), out;
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    stub.UnaryCall(&ctx, "/keep/Alive", grpc::StubOptions(), &in, &out, [&](grpc::Status) {
      std::lock_guard<std::mutex> l(mu);
      done = true;
      cv.notify_all();
    });
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [&] { return done; });
    return channel;
  }();
  (void)keeper;
}

class QueuedServerTest : public ::testing::Test {
 protected:
  static constexpr char kHold[] = "/test.Queued/Hold";
  static constexpr char kBlock[] = "/test.Queued/Block";
  static constexpr char kEcho[] = "/test.Queued/Echo";

  void SetUp() override {
    KeepCallbackQueueUp();
    std::vector<QueuedMethod> methods;
    auto method = [&](const char* path, std::function<void(QueuedCall*)> serve) {
      QueuedMethod m;
      m.path = path;
      m.request = &schema::KeyRequest::default_instance();
      m.response = &schema::Entry::default_instance();
      m.serve = std::move(serve);
      methods.push_back(std::move(m));
    };
    method(kHold, [this](QueuedCall* c) {
      std::lock_guard<std::mutex> l(mu_);
      held_.push_back(c);
      cv_.notify_all();
    });
    method(kBlock, [this](QueuedCall* c) {
      std::unique_lock<std::mutex> l(mu_);
      blocked_ = true;
      cv_.notify_all();
      cv_.wait(l, [this] { return released_; });
      l.unlock();
      c->Finish(grpc::Status::OK);
    });
    method(kEcho, [](QueuedCall* c) {
      static_cast<schema::Entry*>(c->response())
          ->set_key(static_cast<const schema::KeyRequest*>(c->request())->key());
      c->Finish(grpc::Status::OK);
    });
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    queued_ = std::make_unique<QueuedServer>(std::move(methods), &builder, 1);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    queued_->Start();
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(port_),
                                   grpc::InsecureChannelCredentials());
  }

  void TearDown() override {
    {
      std::lock_guard<std::mutex> l(mu_);
      released_ = true;
    }
    cv_.notify_all();
    if (server_) server_->Shutdown();
    if (queued_) queued_->Shutdown();
  }

  // Starts a call of `path` with a KeyRequest for `key`; `done` gets its
  // status and reply.
  void Start(const std::string& path, const std::string& key,
             std::function<void(grpc::Status, schema::Entry)> done) {
    auto call = std::make_shared<Pending>();
    schema::KeyRequest req;
    req.set_key(key);
    grpc::Slice slice(req.SerializeAsString());
    call->in = grpc::ByteBuffer(&slice, 1);
    call->stub = std::make_unique<grpc::GenericStub>(channel_);
    call->stub->UnaryCall(&call->ctx, path, grpc::StubOptions(), &call->in, &call->out,
                          [call, done](grpc::Status st) {
                            schema::Entry e;
                            std::vector<grpc::Slice> slices;
                            std::string bytes;
                            if (st.ok() && call->out.Dump(&slices).ok()) {
                              for (const grpc::Slice& s : slices) bytes.append(s.begin(), s.end());
                            }
                            e.ParseFromString(bytes);
                            done(st, e);
                          });
  }

  // Waits until `n` calls are held.
  void WaitHeld(size_t n) {
    std::unique_lock<std::mutex> l(mu_);
    ASSERT_TRUE(cv_.wait_for(l, std::chrono::seconds(30), [&] { return held_.size() >= n; }));
  }

  struct Pending {
    grpc::ClientContext ctx;
    grpc::ByteBuffer in, out;
    std::unique_ptr<grpc::GenericStub> stub;
  };
  int port_ = 0;
  std::unique_ptr<QueuedServer> queued_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<QueuedCall*> held_;
  bool blocked_ = false;
  bool released_ = false;
};

// Collects the replies of the calls it starts.
struct Replies {
  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, std::pair<grpc::Status, schema::Entry>> got;
  std::function<void(grpc::Status, schema::Entry)> For(const std::string& key) {
    return [this, key](grpc::Status st, schema::Entry e) {
      std::lock_guard<std::mutex> l(mu);
      got[key] = {std::move(st), std::move(e)};
      cv.notify_all();
    };
  }
  bool WaitFor(size_t n) {
    std::unique_lock<std::mutex> l(mu);
    return cv.wait_for(l, std::chrono::seconds(30), [&] { return got.size() >= n; });
  }
};

TEST_F(QueuedServerTest, CallsFinishedElsewhereAreAnsweredByTheQueueThreadTogether) {
  constexpr int kCalls = 16;
  Replies replies;
  for (int i = 0; i < kCalls; i++) {
    const std::string key = "k" + std::to_string(i);
    Start(kHold, key, replies.For(key));
  }
  WaitHeld(kCalls);
  // The queue's thread blocks in a handler while this thread finishes every
  // held call: they wait in the box, and one wake-up answers them all.
  Replies blocked;
  Start(kBlock, "block", blocked.For("block"));
  {
    std::unique_lock<std::mutex> l(mu_);
    ASSERT_TRUE(cv_.wait_for(l, std::chrono::seconds(30), [this] { return blocked_; }));
  }
  std::vector<QueuedCall*> held;
  {
    std::lock_guard<std::mutex> l(mu_);
    held.swap(held_);
  }
  for (QueuedCall* c : held) {
    auto* reply = static_cast<schema::Entry*>(c->response());
    reply->set_key(static_cast<const schema::KeyRequest*>(c->request())->key());
    reply->set_value("from the test's thread");
    c->Finish(grpc::Status::OK);
  }
  {
    std::lock_guard<std::mutex> l(replies.mu);
    EXPECT_TRUE(replies.got.empty()) << "answered while the queue's thread was blocked";
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    released_ = true;
  }
  cv_.notify_all();
  ASSERT_TRUE(replies.WaitFor(kCalls));
  ASSERT_TRUE(blocked.WaitFor(1));
  for (int i = 0; i < kCalls; i++) {
    const std::string key = "k" + std::to_string(i);
    const auto& [st, e] = replies.got[key];
    EXPECT_TRUE(st.ok()) << key << ": " << st.error_message();
    EXPECT_EQ(e.key(), key);
    EXPECT_EQ(e.value(), "from the test's thread");
  }
  const QueuedServer::HandStats stats = queued_->hand_stats();
  EXPECT_EQ(stats.handed, uint64_t{kCalls});
  EXPECT_EQ(stats.wakeups, 1u);
}

TEST_F(QueuedServerTest, ErrorsFinishedElsewhereAndInlineAnswers) {
  Replies replies;
  Start(kHold, "bad", replies.For("bad"));
  WaitHeld(1);
  QueuedCall* c = nullptr;
  {
    std::lock_guard<std::mutex> l(mu_);
    c = held_.back();
    held_.clear();
  }
  c->Finish(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "no such thing"));
  // Answered inline on the queue's thread: nothing handed.
  Start(kEcho, "echo", replies.For("echo"));
  ASSERT_TRUE(replies.WaitFor(2));
  EXPECT_EQ(replies.got["bad"].first.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(replies.got["bad"].first.error_message(), "no such thing");
  EXPECT_TRUE(replies.got["echo"].first.ok());
  EXPECT_EQ(replies.got["echo"].second.key(), "echo");
  // Handed again after the first wake-up: the alarm is set anew.
  Start(kHold, "again", replies.For("again"));
  WaitHeld(1);
  {
    std::lock_guard<std::mutex> l(mu_);
    c = held_.back();
    held_.clear();
  }
  c->Finish(grpc::Status::OK);
  ASSERT_TRUE(replies.WaitFor(3));
  EXPECT_TRUE(replies.got["again"].first.ok());
  const QueuedServer::HandStats stats = queued_->hand_stats();
  EXPECT_EQ(stats.handed, 2u);
  EXPECT_EQ(stats.wakeups, 2u);
}

TEST_F(QueuedServerTest, ShutdownWaitsForHandedCalls) {
  Replies replies;
  for (int i = 0; i < 4; i++)
    Start(kHold, "s" + std::to_string(i), replies.For("s" + std::to_string(i)));
  WaitHeld(4);
  std::vector<QueuedCall*> held;
  {
    std::lock_guard<std::mutex> l(mu_);
    held.swap(held_);
  }
  // Finished from another thread while the server shuts down: the queue's
  // thread still answers (or ends) each before the queues go.
  std::thread finisher([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    for (QueuedCall* c : held) c->Finish(grpc::Status::OK);
  });
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  queued_->Shutdown();
  finisher.join();
  ASSERT_TRUE(replies.WaitFor(4));
  EXPECT_EQ(queued_->hand_stats().handed, 4u);
}

// A server shut down right after it started: the queue threads must not be
// requesting calls on queues already shut down (gRPC aborts on that).
TEST(QueuedServerStartStopTest, ShutdownRightAfterStart) {
  for (int i = 0; i < 40; i++) {
    std::vector<QueuedMethod> methods;
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    QueuedServer queued(std::move(methods), &builder, 2);
    std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
    ASSERT_NE(server, nullptr);
    ASSERT_GT(port, 0);
    queued.Start();
    server->Shutdown();
    queued.Shutdown();
  }
}

}  // namespace
}  // namespace immudb::server
