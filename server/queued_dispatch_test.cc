// --grpc-dispatch=queues (the default): the method table against the
// services' descriptors, and what only the generic service does (unknown
// methods, request bytes that do not parse, shutdown with calls in flight).
// The other server tests run against both modes (the callback.* CTest
// entries run them with --grpc-dispatch=callback).
#include <google/protobuf/descriptor.h>
#include <grpcpp/generic/generic_stub.h>

#include <atomic>
#include <condition_variable>
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

}  // namespace
}  // namespace immudb::server
