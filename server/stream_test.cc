// The stream* RPCs through a C++ gRPC client, with framing done by hand
// where the layout itself is under test.
#include <chrono>
#include <cstring>
#include <thread>

#include "server/stream_framing.h"
#include "server/test_fixture.h"

namespace immudb::server {
namespace {

using google::protobuf::Empty;

std::string Frame(const std::string& msg) { return EncodeU64(msg.size()) + msg; }

// Every message of a server stream, reassembled.
std::vector<std::string> ReadAll(grpc::ClientReaderInterface<schema::Chunk>* r, grpc::Status* st) {
  StreamReader in([r](schema::Chunk* c) { return r->Read(c); });
  std::vector<std::string> out;
  for (;;) {
    auto m = in.Next();
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    if (!m.ok() || !m->has_value()) break;
    out.push_back(**m);
  }
  *st = r->Finish();
  return out;
}

class StreamTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    token_ = Login();
  }

  // streamSet of raw chunk contents.
  grpc::Status StreamSetChunks(const std::vector<std::string>& chunks, schema::TxHeader* hdr) {
    auto ctx = Ctx(token_);
    auto w = stub_->streamSet(ctx.get(), hdr);
    for (const std::string& c : chunks) {
      schema::Chunk chunk;
      chunk.set_content(c);
      if (!w->Write(chunk)) break;
    }
    w->WritesDone();
    return w->Finish();
  }

  std::string token_;
};

TEST(StreamFramingTest, RoundTripAcrossChunkBoundaries) {
  std::vector<schema::Chunk> chunks;
  StreamWriter w(
      [&](const schema::Chunk& c) {
        chunks.push_back(c);
        return true;
      },
      4096);
  const std::string big(10000, 'x');
  ASSERT_TRUE(w.Send("a"));
  ASSERT_TRUE(w.Send(big));
  ASSERT_TRUE(w.Send(""));
  ASSERT_EQ(chunks.size(), 1u + 3u + 1u);
  EXPECT_EQ(chunks[0].content(), Frame("a"));
  for (const auto& c : chunks) EXPECT_LE(c.content().size(), 4096u);
  size_t i = 0;
  StreamReader r([&](schema::Chunk* c) {
    if (i == chunks.size()) return false;
    *c = chunks[i++];
    return true;
  });
  EXPECT_EQ(**r.Next(), "a");
  EXPECT_EQ(**r.Next(), big);
  EXPECT_EQ(**r.Next(), "");
  EXPECT_FALSE(r.Next()->has_value());
}

TEST(StreamFramingTest, TruncatedAndOversizedMessages) {
  auto reader_of = [](std::string bytes) {
    return StreamReader([bytes, done = false](schema::Chunk* c) mutable {
      if (done) return false;
      c->set_content(bytes);
      done = true;
      return true;
    });
  };
  auto r1 = reader_of(Frame("hello").substr(0, 10));
  EXPECT_EQ(r1.Next().status().message(), kErrStreamTruncated);
  auto r2 = reader_of(EncodeU64(uint64_t{1} << 40));
  EXPECT_EQ(r2.Next().status().message(), kErrStreamMessageTooLong);
  auto r3 = reader_of("abc");
  EXPECT_EQ(r3.Next().status().message(), kErrStreamTruncated);
}

TEST_F(StreamTest, SetThenGetScanHistory) {
  // Two messages packed into one chunk, then a value larger than a chunk.
  const std::string big(200 * 1024, 'v');
  schema::TxHeader hdr;
  ASSERT_TRUE(StreamSetChunks({Frame("k1") + Frame("v1"), Frame("k2"), Frame(big)}, &hdr).ok());
  EXPECT_EQ(hdr.id(), 1u);
  EXPECT_EQ(hdr.nentries(), 2);
  ASSERT_TRUE(StreamSetChunks({Frame("k1") + Frame("v1b")}, &hdr).ok());

  schema::KeyRequest get;
  get.set_key("k2");
  auto ctx = Ctx(token_);
  auto r = stub_->streamGet(ctx.get(), get);
  schema::Chunk first;
  ASSERT_TRUE(r->Read(&first));
  EXPECT_EQ(first.content(), Frame("k2"));  // Layout: 8-byte BE length, then the key.
  StreamReader rest([&r](schema::Chunk* c) { return r->Read(c); });
  auto v = rest.Next();
  ASSERT_TRUE(v.ok() && v->has_value());
  EXPECT_EQ(**v, big);
  EXPECT_TRUE(r->Finish().ok());

  grpc::Status st;
  schema::ScanRequest scan;
  auto sctx = Ctx(token_);
  auto msgs = ReadAll(stub_->streamScan(sctx.get(), scan).get(), &st);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(msgs.size(), 4u);
  EXPECT_EQ(msgs[0], "k1");
  EXPECT_EQ(msgs[1], "v1b");
  EXPECT_EQ(msgs[2], "k2");

  schema::HistoryRequest hist;
  hist.set_key("k1");
  auto hctx = Ctx(token_);
  msgs = ReadAll(stub_->streamHistory(hctx.get(), hist).get(), &st);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(msgs, (std::vector<std::string>{"k1", "v1", "k1", "v1b"}));
}

TEST_F(StreamTest, VerifiableSetAndGet) {
  schema::VerifiableTx vtx;
  auto ctx = Ctx(token_);
  auto w = stub_->streamVerifiableSet(ctx.get(), &vtx);
  schema::Chunk c;
  c.set_content(Frame(EncodeU64(0)) + Frame("vk") + Frame("vv"));
  ASSERT_TRUE(w->Write(c));
  w->WritesDone();
  ASSERT_TRUE(w->Finish().ok());
  EXPECT_EQ(vtx.dualproof().targettxheader().id(), 1u);
  EXPECT_EQ(vtx.tx().entries_size(), 1);

  schema::VerifiableGetRequest vg;
  vg.mutable_keyrequest()->set_key("vk");
  vg.set_provesincetx(1);
  auto gctx = Ctx(token_);
  grpc::Status st;
  auto msgs = ReadAll(stub_->streamVerifiableGet(gctx.get(), vg).get(), &st);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(msgs.size(), 4u);
  schema::Entry e;
  ASSERT_TRUE(e.ParseFromString(msgs[0]));
  EXPECT_EQ(e.key(), "vk");
  EXPECT_EQ(e.value(), "");  // The value travels in the last message.
  schema::VerifiableTx got;
  ASSERT_TRUE(got.ParseFromString(msgs[1]));
  EXPECT_EQ(got.dualproof().targettxheader().id(), 1u);
  schema::InclusionProof ip;
  EXPECT_TRUE(ip.ParseFromString(msgs[2]));
  EXPECT_EQ(msgs[3], "vv");
}

TEST_F(StreamTest, ExecAllAndZScan) {
  schema::ZAddRequest z;
  z.set_set("set");
  z.set_key("a");
  z.set_score(2.5);
  schema::TxHeader hdr;
  auto ctx = Ctx(token_);
  auto w = stub_->streamExecAll(ctx.get(), &hdr);
  schema::Chunk c;
  c.set_content(Frame(std::string(1, '\x01')) + Frame("a") + Frame("A") +
                Frame(std::string(1, '\x02')) + Frame(z.SerializeAsString()));
  ASSERT_TRUE(w->Write(c));
  w->WritesDone();
  grpc::Status st = w->Finish();
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(hdr.nentries(), 2);

  schema::ZScanRequest zs;
  zs.set_set("set");
  auto zctx = Ctx(token_);
  auto msgs = ReadAll(stub_->streamZScan(zctx.get(), zs).get(), &st);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(msgs.size(), 5u);
  EXPECT_EQ(msgs[0], "set");
  EXPECT_EQ(msgs[1], "a");
  uint64_t bits = *DecodeU64(msgs[2]);
  double score;
  std::memcpy(&score, &bits, 8);
  EXPECT_EQ(score, 2.5);
  EXPECT_EQ(*DecodeU64(msgs[3]), 0u);  // Not bound to a tx.
  EXPECT_EQ(msgs[4], "A");
}

TEST_F(StreamTest, BadStreamsWriteNothing) {
  schema::TxHeader hdr;
  // A key without its value, a truncated frame, an empty key, an unknown op.
  EXPECT_FALSE(StreamSetChunks({Frame("k")}, &hdr).ok());
  EXPECT_EQ(StreamSetChunks({Frame("k") + Frame("vv").substr(0, 9)}, &hdr).error_message(),
            kErrStreamTruncated);
  EXPECT_EQ(StreamSetChunks({Frame("") + Frame("v")}, &hdr).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  {
    auto ctx = Ctx(token_);
    auto w = stub_->streamExecAll(ctx.get(), &hdr);
    schema::Chunk c;
    c.set_content(Frame(std::string(1, '\x04')) + Frame("x"));
    w->Write(c);
    w->WritesDone();
    EXPECT_EQ(w->Finish().error_code(), grpc::StatusCode::UNIMPLEMENTED);
  }
  // No credentials; an unknown session.
  {
    grpc::ClientContext ctx;
    auto w = stub_->streamSet(&ctx, &hdr);
    w->WritesDone();
    EXPECT_EQ(w->Finish().error_message(), "not logged in");
  }
  {
    auto ctx = SessionCtx("nope");
    schema::KeyRequest get;
    get.set_key("k");
    grpc::Status st;
    ReadAll(stub_->streamGet(ctx.get(), get).get(), &st);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(st.error_message(), "no session found");
  }
  schema::ImmutableState state;
  ASSERT_TRUE(stub_->CurrentState(Ctx(token_).get(), Empty(), &state).ok());
  EXPECT_EQ(state.txid(), 0u);
}

// A stream holds a server thread while its client keeps it open. Many such
// streams (more than the unary calls' thread bound) must not leave the
// unary calls without threads.
TEST_F(StreamTest, IdleStreamsDoNotStarveOtherCalls) {
  constexpr int kIdle = 300;
  struct Open {
    std::unique_ptr<grpc::ClientContext> ctx;
    schema::TxHeader hdr;
    std::unique_ptr<grpc::ClientWriter<schema::Chunk>> w;
  };
  std::vector<Open> idle(kIdle);
  for (Open& o : idle) {
    o.ctx = Ctx(token_);
    o.w = stub_->streamSet(o.ctx.get(), &o.hdr);
    ASSERT_NE(o.w, nullptr);
  }
  auto with_deadline = [](std::unique_ptr<grpc::ClientContext> ctx) {
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    return ctx;
  };
  // Give the server time to start every idle stream's handler.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));

  schema::LoginRequest login;
  login.set_user("immudb");
  login.set_password("immudb");
  schema::LoginResponse lresp;
  grpc::ClientContext lctx;
  lctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  ASSERT_TRUE(stub_->Login(&lctx, login, &lresp).ok());
  for (int i = 0; i < 8; i++) {
    schema::SetRequest set;
    auto* kv = set.add_kvs();
    kv->set_key("busy" + std::to_string(i));
    kv->set_value("v");
    schema::TxHeader hdr;
    grpc::Status st = stub_->Set(with_deadline(Ctx(token_)).get(), set, &hdr);
    ASSERT_TRUE(st.ok()) << i << ": " << st.error_message();
  }
  schema::ScanRequest scan;
  scan.set_prefix("busy");
  schema::Entries entries;
  grpc::Status st = stub_->Scan(with_deadline(Ctx(token_)).get(), scan, &entries);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(entries.entries_size(), 8);

  // The idle streams still work: one writes its entry and commits.
  ASSERT_TRUE(idle[0].w->Write([] {
    schema::Chunk c;
    c.set_content(Frame("late") + Frame("value"));
    return c;
  }()));
  idle[0].w->WritesDone();
  ASSERT_TRUE(idle[0].w->Finish().ok());
  EXPECT_EQ(idle[0].hdr.nentries(), 1);
  for (int i = 1; i < kIdle; i++) {
    idle[i].ctx->TryCancel();
    idle[i].w->Finish();
  }
}

}  // namespace
}  // namespace immudb::server
