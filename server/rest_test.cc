// The REST gateway (wire-api.md §8): REST calls reach the gRPC handlers and
// return what gRPC returns, as grpc-gateway v1 JSON; errors, routing, the
// OpenAPI document, the --web-server switch and garbage input.
#include <arpa/inet.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include "server/json.h"
#include "server/rest_gateway.h"
#include "server/test_fixture.h"

namespace immudb::server {
namespace {

using google::protobuf::Empty;
using google::protobuf::Message;
using google::protobuf::util::MessageDifferencer;

std::string B64(const std::string& in) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(n >> s) & 63];
  }
  if (i + 1 == in.size()) {
    const uint32_t n = uint8_t(in[i]) << 16;
    out += std::string{kAlphabet[(n >> 18) & 63], kAlphabet[(n >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    const uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += std::string{kAlphabet[(n >> 18) & 63], kAlphabet[(n >> 12) & 63],
                       kAlphabet[(n >> 6) & 63], '='};
  }
  return out;
}

// `json` parsed into a message of `proto`'s type (test fails on bad JSON).
template <typename T>
T FromJson(const std::string& json) {
  T out;
  auto st = google::protobuf::util::JsonStringToMessage(json, &out);
  EXPECT_TRUE(st.ok()) << st.ToString() << " in " << json;
  return out;
}

// Connects to 127.0.0.1:port, writes `bytes` (then half-closes unless told
// not to), reads what comes back (at most 2 s), and closes. Returns the reply.
std::string SendRaw(int port, const std::string& bytes, bool half_close = true) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  (void)send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  if (half_close) shutdown(fd, SHUT_WR);
  std::string reply;
  char buf[4096];
  pollfd p{fd, POLLIN, 0};
  while (poll(&p, 1, 2000) > 0) {
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    reply.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return reply;
}

// A port nothing listens on (bound, then released).
int UnusedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

class RestTest : public ServerFixture {
 protected:
  void Configure(ServerConfig* c) override {
    c->web_server = true;
    c->web_server_port = 0;
  }

  httplib::Client Http() {
    httplib::Client cli("127.0.0.1", server_->web_port());
    cli.set_connection_timeout(2);
    cli.set_read_timeout(5);
    return cli;
  }

  httplib::Headers Auth(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

  // Logs in over REST; returns the token.
  std::string RestLogin() {
    auto res =
        Http().Post("/api/login",
                    R"({"user":")" + B64("immudb") + R"(","password":")" + B64("immudb") + R"("})",
                    "application/json");
    EXPECT_TRUE(res);
    if (!res) return "";
    EXPECT_EQ(res->status, 200) << res->body;
    return FromJson<schema::LoginResponse>(res->body).token();
  }

  httplib::Result Post(const std::string& path, const std::string& body, const std::string& token) {
    return Http().Post(path, Auth(token), body, "application/json");
  }
  httplib::Result Get(const std::string& path, const std::string& token) {
    return Http().Get(path, Auth(token));
  }

  uint64_t CurrentTx(const std::string& token) {
    schema::ImmutableState state;
    EXPECT_TRUE(stub_->CurrentState(Ctx(token).get(), Empty(), &state).ok());
    return state.txid();
  }
};

TEST_F(RestTest, LoginReturnsATokenThatGrpcAccepts) {
  ASSERT_GT(server_->web_port(), 0);
  const std::string token = RestLogin();
  ASSERT_FALSE(token.empty());
  EXPECT_TRUE(SetKey(token, "k", "v").ok());
  // The default-password warning travels as base64 bytes.
  auto res = Http().Post(
      "/api/login", R"({"user":")" + B64("immudb") + R"(","password":")" + B64("immudb") + R"("})",
      "application/json");
  ASSERT_TRUE(res);
  const auto login = FromJson<schema::LoginResponse>(res->body);
  EXPECT_NE(login.warning().find("default password"), std::string::npos);
  EXPECT_NE(res->body.find(R"("warning":")"), std::string::npos);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(res->get_header_value("Grpc-Metadata-Immudb-Uuid"), server_->uuid());
  auto bad = Http().Post(
      "/api/login", R"({"user":")" + B64("immudb") + R"(","password":")" + B64("nope") + R"("})",
      "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 500);
  EXPECT_NE(bad->body.find("invalid user name or password"), std::string::npos);
}

TEST_F(RestTest, SetAndGetReturnWhatGrpcReturns) {
  const std::string token = RestLogin();
  auto set = Post(
      "/api/db/set",
      R"({"KVs":[{"key":")" + B64("key1") + R"(","value":")" + B64("value1") + R"("}]})", token);
  ASSERT_TRUE(set);
  ASSERT_EQ(set->status, 200) << set->body;
  // grpc-gateway JSON: proto field names, 64-bit integers as strings,
  // default values left out.
  EXPECT_NE(set->body.find(R"("id":"1")"), std::string::npos) << set->body;
  EXPECT_NE(set->body.find(R"("nentries":1)"), std::string::npos) << set->body;
  EXPECT_EQ(set->body.find("blTxId"), std::string::npos) << set->body;
  const auto hdr = FromJson<schema::TxHeader>(set->body);
  EXPECT_EQ(hdr.id(), 1u);

  auto get = Get("/api/db/get/" + B64("key1"), token);
  ASSERT_TRUE(get);
  ASSERT_EQ(get->status, 200) << get->body;
  schema::KeyRequest kr;
  kr.set_key("key1");
  schema::Entry grpc_entry;
  ASSERT_TRUE(stub_->Get(Ctx(token).get(), kr, &grpc_entry).ok());
  EXPECT_TRUE(MessageDifferencer::Equals(FromJson<schema::Entry>(get->body), grpc_entry));
  EXPECT_NE(get->body.find(R"("value":")" + B64("value1") + "\""), std::string::npos);
  EXPECT_NE(get->body.find(R"("tx":"1")"), std::string::npos) << get->body;

  // Query parameters fill the other request fields; URL-safe base64 and
  // escapes in the path work.
  ASSERT_TRUE(SetKey(token, "key1", "value2").ok());
  auto at1 = Get("/api/db/get/" + B64("key1") + "?atTx=1", token);
  ASSERT_TRUE(at1);
  ASSERT_EQ(at1->status, 200) << at1->body;
  EXPECT_EQ(FromJson<schema::Entry>(at1->body).value(), "value1");
  const std::string odd_key = "\xfb\xff?";  // base64 "+/8/"
  ASSERT_TRUE(SetKey(token, odd_key, "odd").ok());
  for (const char* path : {"/api/db/get/-_8_", "/api/db/get/%2B%2F8%2F", "/api/v2/db/get/-_8_"}) {
    auto odd = Get(path, token);
    ASSERT_TRUE(odd);
    EXPECT_EQ(odd->status, 200) << path << " " << odd->body;
    EXPECT_EQ(FromJson<schema::Entry>(odd->body).value(), "odd") << path;
  }
  auto bad_type = Get("/api/db/get/" + B64("key1") + "?atTx=minus-one", token);
  ASSERT_TRUE(bad_type);
  EXPECT_EQ(bad_type->status, 400);
  auto bad_key = Get("/api/db/get/not*base64", token);
  ASSERT_TRUE(bad_key);
  EXPECT_EQ(bad_key->status, 400);

  auto state = Get("/api/db/state", token);
  ASSERT_TRUE(state);
  schema::ImmutableState grpc_state;
  ASSERT_TRUE(stub_->CurrentState(Ctx(token).get(), Empty(), &grpc_state).ok());
  EXPECT_TRUE(
      MessageDifferencer::Equals(FromJson<schema::ImmutableState>(state->body), grpc_state));
  EXPECT_NE(state->body.find(R"("db":"defaultdb")"), std::string::npos);
}

TEST_F(RestTest, VerifiedCallsReturnWhatGrpcReturns) {
  const std::string token = RestLogin();
  auto vset = Post("/api/db/verifiable/set",
                   R"({"setRequest":{"KVs":[{"key":")" + B64("k") + R"(","value":")" + B64("v1") +
                       R"("}]},"proveSinceTx":"0"})",
                   token);
  ASSERT_TRUE(vset);
  ASSERT_EQ(vset->status, 200) << vset->body;
  const auto vtx = FromJson<schema::VerifiableTx>(vset->body);
  EXPECT_EQ(vtx.tx().header().id(), 1u);
  EXPECT_EQ(vtx.dualproof().targettxheader().id(), 1u);
  ASSERT_TRUE(SetKey(token, "k", "v2").ok());

  const std::string vget_body =
      R"({"keyRequest":{"key":")" + B64("k") + R"("},"proveSinceTx":"1"})";
  auto vget = Post("/api/db/verifiable/get", vget_body, token);
  ASSERT_TRUE(vget);
  ASSERT_EQ(vget->status, 200) << vget->body;
  schema::VerifiableGetRequest vreq;
  vreq.mutable_keyrequest()->set_key("k");
  vreq.set_provesincetx(1);
  schema::VerifiableEntry grpc_ventry;
  ASSERT_TRUE(stub_->VerifiableGet(Ctx(token).get(), vreq, &grpc_ventry).ok());
  EXPECT_TRUE(
      MessageDifferencer::Equals(FromJson<schema::VerifiableEntry>(vget->body), grpc_ventry));
  EXPECT_EQ(grpc_ventry.entry().value(), "v2");

  auto vtx2 = Get("/api/db/verifiable/tx/2?proveSinceTx=1", token);
  ASSERT_TRUE(vtx2);
  ASSERT_EQ(vtx2->status, 200) << vtx2->body;
  schema::VerifiableTxRequest treq;
  treq.set_tx(2);
  treq.set_provesincetx(1);
  schema::VerifiableTx grpc_vtx;
  ASSERT_TRUE(stub_->VerifiableTxById(Ctx(token).get(), treq, &grpc_vtx).ok());
  EXPECT_TRUE(MessageDifferencer::Equals(FromJson<schema::VerifiableTx>(vtx2->body), grpc_vtx));

  auto tx = Get("/api/db/tx/1", token);
  ASSERT_TRUE(tx);
  ASSERT_EQ(tx->status, 200) << tx->body;
  EXPECT_EQ(FromJson<schema::Tx>(tx->body).header().id(), 1u);
  // An error of the handler comes back with its gRPC code and text.
  auto beyond = Post("/api/db/verifiable/get",
                     R"({"keyRequest":{"key":")" + B64("k") + R"("},"proveSinceTx":"99"})", token);
  ASSERT_TRUE(beyond);
  EXPECT_EQ(beyond->status, 400);
  EXPECT_EQ(Json::Parse(beyond->body)->Dump(),
            R"({"code":3,"details":[],"error":"illegal state","message":"illegal state"})");
}

TEST_F(RestTest, CallsWithoutATokenFailAsGrpcDoes) {
  auto res = Http().Get("/api/db/get/" + B64("k"));
  ASSERT_TRUE(res);
  // immudb answers "not logged in" with gRPC UNKNOWN, which grpc-gateway
  // sends as HTTP 500.
  EXPECT_EQ(res->status, 500);
  auto body = Json::Parse(res->body);
  ASSERT_TRUE(body.ok()) << res->body;
  EXPECT_EQ(body->Dump(),
            R"({"code":2,"details":[],"error":"not logged in","message":"not logged in"})");
  auto set = Post("/api/db/set", R"({"KVs":[{"key":"aw==","value":"dg=="}]})", "not-a-token");
  ASSERT_TRUE(set);
  EXPECT_GE(set->status, 400);
  EXPECT_NE(set->body.find("\"error\""), std::string::npos);
  // Credentials can also be a session opened over REST.
  auto open = Http().Post("/api/authorization/session/open",
                          R"({"username":"immudb","password":"immudb","database":"defaultdb"})",
                          "application/json");
  ASSERT_TRUE(open);
  ASSERT_EQ(open->status, 200) << open->body;
  const std::string sid = FromJson<model::OpenSessionResponse>(open->body).sessionid();
  auto with_session = Http().Post("/api/db/set", {{"sessionid", sid}},
                                  R"({"KVs":[{"key":"aw==","value":"dg=="}]})", "application/json");
  ASSERT_TRUE(with_session);
  EXPECT_EQ(with_session->status, 200) << with_session->body;
  EXPECT_EQ(CurrentTx(Login()), 1u);
}

TEST_F(RestTest, BadJsonIsRejectedAndWritesNothing) {
  const std::string token = RestLogin();
  for (const char* body : {"{not json", R"({"KVs":"x"})", R"({"KVs":[{"key":"***"}]})", "[1,2]",
                           R"({"KVs":[{"key":"aw==","value":"dg=="}]} trailing)"}) {
    auto res = Post("/api/db/set", body, token);
    ASSERT_TRUE(res) << body;
    EXPECT_EQ(res->status, 400) << body;
    auto err = Json::Parse(res->body);
    ASSERT_TRUE(err.ok()) << res->body;
    ASSERT_TRUE(err->Find("code"));
    EXPECT_EQ(*err->Find("code")->as_int(), 3) << body;
    EXPECT_FALSE(err->Find("error")->as_string()->empty());
  }
  // A header gRPC cannot carry is a bad request too.
  auto bad_header = Http().Post("/api/db/set", {{"Grpc-Metadata-X-Bin", "***"}},
                                R"({"KVs":[{"key":"aw==","value":"dg=="}]})", "application/json");
  ASSERT_TRUE(bad_header);
  EXPECT_EQ(bad_header->status, 400);
  EXPECT_EQ(CurrentTx(token), 0u);
  // Unknown fields are ignored, as grpc-gateway does; an empty request is
  // the handler's to judge.
  auto extra =
      Post("/api/db/set", R"({"KVs":[{"key":"aw==","value":"dg=="}],"color":"red"})", token);
  ASSERT_TRUE(extra);
  EXPECT_EQ(extra->status, 200) << extra->body;
  auto empty = Post("/api/db/set", "", token);
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->status, 400) << empty->body;
  EXPECT_EQ(CurrentTx(token), 1u);
}

TEST_F(RestTest, UnknownRoutesAre404AndWrongVerbs405) {
  auto cli = Http();
  for (const char* path : {"/api/nope", "/api/db/get", "/api/db/state/", "/api"}) {
    auto res = cli.Get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 404) << path;
  }
  // Outside /api, as immudb without its web console: a redirect to a page
  // that says there is none.
  for (const char* path : {"/", "/apix/health", "/index.html?x=1"}) {
    auto res = cli.Get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 307) << path;
    EXPECT_EQ(res->get_header_value("Location"), "/missing/") << path;
  }
  auto post_root = cli.Post("/", "{}", "application/json");
  ASSERT_TRUE(post_root);
  EXPECT_EQ(post_root->status, 307);
  auto missing = cli.Get("/missing/");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 200);
  EXPECT_NE(missing->body.find("no web console"), std::string::npos) << missing->body;
  auto post = cli.Post("/api/db/nope", "{}", "application/json");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 404);
  auto wrong_verb = cli.Post("/api/db/state", "{}", "application/json");
  ASSERT_TRUE(wrong_verb);
  EXPECT_EQ(wrong_verb->status, 405);
  // A POST without any body (no Content-Length) is an empty request.
  const std::string token = Login();
  std::string raw = SendRaw(server_->web_port(),
                            "POST /api/db/list HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                                token + "\r\nConnection: close\r\n\r\n",
                            false);
  EXPECT_EQ(raw.rfind("HTTP/1.1 200", 0), 0u) << raw;
  EXPECT_NE(raw.find(R"({"databases":[{"databaseName":"defaultdb"}]})"), std::string::npos) << raw;
  auto get_post_route = cli.Get("/api/db/set");
  ASSERT_TRUE(get_post_route);
  EXPECT_EQ(get_post_route->status, 405);
  auto health = cli.Get("/api/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_TRUE(FromJson<schema::HealthResponse>(health->body).status());
  // Routes of RPCs this server does not offer answer like gRPC: 501.
  auto sql = Post("/api/db/sqlexec", R"({"sql":"SELECT 1"})", token);
  ASSERT_TRUE(sql);
  EXPECT_EQ(sql->status, 501);
}

TEST_F(RestTest, SwaggerDocumentListsEveryRoute) {
  auto res = Http().Get("/api/docs/swagger.json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  auto doc = Json::Parse(res->body);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(*doc->Find("swagger")->as_string(), "2.0");
  EXPECT_EQ(*doc->Find("basePath")->as_string(), "/api");
  const Json* paths = doc->Find("paths");
  ASSERT_TRUE(paths && paths->as_object());
  for (const RestRoute& r : RestRoutes()) {
    const Json* item = paths->Find(r.path);
    ASSERT_TRUE(item) << r.path;
    std::string verb = r.verb;
    for (char& c : verb) c = static_cast<char>(std::tolower(c));
    const Json* op = item->Find(verb);
    ASSERT_TRUE(op) << r.path;
    const Json* ok = op->Find("responses")->Find("200")->Find("schema")->Find("$ref");
    ASSERT_TRUE(ok) << r.path;
    // Every referenced definition exists.
    const std::string ref = *ok->as_string();
    EXPECT_TRUE(doc->Find("definitions")->Find(ref.substr(ref.rfind('/') + 1))) << ref;
  }
  EXPECT_EQ(paths->as_object()->size(), 55u);
  const Json* entry = doc->Find("definitions")->Find("schemaEntry");
  ASSERT_TRUE(entry);
  EXPECT_EQ(*entry->Find("properties")->Find("tx")->Find("type")->as_string(), "string");
  EXPECT_EQ(*entry->Find("properties")->Find("key")->Find("format")->as_string(), "byte");
  auto page = Http().Get("/api/docs/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("swagger.json"), std::string::npos);
}

TEST_F(RestTest, GarbageOnThePortDoesNotKillTheServer) {
  const int port = server_->web_port();
  std::string binary;
  for (int i = 0; i < 4096; ++i) binary += static_cast<char>((i * 131 + 7) & 0xff);
  const std::string inputs[] = {
      binary,
      "GET /api/health HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
      "POST /api/db/set HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"KVs\":",
      "GET /" + std::string(20000, 'a') + " HTTP/1.1\r\n\r\n",
      "GET /api/db/get/%zz HTTP/1.1\r\nHost: x\r\n\r\n",
      "\r\n\r\n\r\n",
      "POST /api/login HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzzzz\r\n",
  };
  for (const std::string& in : inputs) {
    const std::string reply = SendRaw(port, in);
    if (!reply.empty()) {
      EXPECT_EQ(reply.rfind("HTTP/1.1 ", 0), 0u) << reply.substr(0, 80);
    }
  }
  auto health = Http().Get("/api/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  const std::string token = Login();
  EXPECT_TRUE(SetKey(token, "after", "garbage").ok());
  EXPECT_EQ(CurrentTx(token), 1u);
}

class RestDisabledTest : public ServerFixture {
 protected:
  void Configure(ServerConfig* c) override {
    port_ = UnusedPort();
    c->web_server = false;
    c->web_server_port = port_;
  }
  int port_ = 0;
};

TEST_F(RestDisabledTest, WebServerFalseOpensNoPort) {
  EXPECT_EQ(server_->web_port(), 0);
  httplib::Client cli("127.0.0.1", port_);
  cli.set_connection_timeout(1);
  EXPECT_FALSE(cli.Get("/api/health"));
  // gRPC is unaffected.
  EXPECT_FALSE(Login().empty());
}

class RestAuthOffTest : public ServerFixture {
 protected:
  void Configure(ServerConfig* c) override {
    c->auth = false;
    c->web_server = true;
    c->web_server_port = 0;
  }
};

// With authentication off, local REST callers need no token, as local
// gRPC callers do.
TEST_F(RestAuthOffTest, LocalCallsNeedNoToken) {
  httplib::Client cli("127.0.0.1", server_->web_port());
  auto res =
      cli.Post("/api/db/set", R"({"KVs":[{"key":"aw==","value":"dg=="}]})", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  auto get = cli.Get("/api/db/get/aw==");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 200) << get->body;
  EXPECT_EQ(FromJson<schema::Entry>(get->body).value(), "v");
  auto login =
      cli.Post("/api/login", R"({"user":"aW1tdWRi","password":"aW1tdWRi"})", "application/json");
  ASSERT_TRUE(login);
  EXPECT_EQ(login->status, 500);
  EXPECT_NE(login->body.find("authentication disabled"), std::string::npos) << login->body;
}

class RestLimitTest : public RestTest {
 protected:
  void Configure(ServerConfig* c) override {
    RestTest::Configure(c);
    c->max_recv_msg_size = 4096;
  }
};

TEST_F(RestLimitTest, OversizedBodiesAreRefused) {
  const std::string token = RestLogin();
  auto res =
      Post("/api/db/set",
           R"({"KVs":[{"key":"aw==","value":")" + B64(std::string(9000, 'x')) + R"("}]})", token);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
  EXPECT_EQ(CurrentTx(token), 0u);
}

// HTTPS with the server's certificate: a self-signed one made for the test.
class RestTlsTest : public RestTest {
 protected:
  void Configure(ServerConfig* c) override {
    RestTest::Configure(c);
    std::filesystem::create_directories(dir_ + "_tls");
    cert_ = dir_ + "_tls/cert.pem";
    const std::string key = dir_ + "_tls/key.pem";
    const std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
        "-subj /CN=localhost -keyout " +
        key + " -out " + cert_ + " >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    c->certificate = cert_;
    c->pkey = key;
  }
  void TearDown() override {
    RestTest::TearDown();
    std::filesystem::remove_all(dir_ + "_tls");
  }
  std::string cert_;
};

TEST_F(RestTlsTest, ServesHttpsWithTheServerCertificate) {
  ASSERT_GT(server_->web_port(), 0);
  httplib::SSLClient tls("127.0.0.1", server_->web_port());
  tls.set_ca_cert_path(cert_.c_str());
  tls.enable_server_certificate_verification(false);
  tls.set_connection_timeout(2);
  tls.set_read_timeout(5);
  auto login =
      tls.Post("/api/login", R"({"user":"aW1tdWRi","password":"aW1tdWRi"})", "application/json");
  ASSERT_TRUE(login) << httplib::to_string(login.error());
  ASSERT_EQ(login->status, 200) << login->body;
  const std::string token = FromJson<schema::LoginResponse>(login->body).token();
  auto set = tls.Post("/api/db/set", Auth(token), R"({"KVs":[{"key":"aw==","value":"dg=="}]})",
                      "application/json");
  ASSERT_TRUE(set);
  EXPECT_EQ(set->status, 200) << set->body;
  // Plain HTTP on the HTTPS port gets no REST reply.
  auto plain = Http().Get("/api/health");
  EXPECT_TRUE(!plain || plain->status != 200);
}

TEST(RestConfigTest, WebServerFlags) {
  auto parse = [](std::vector<const char*> args) {
    args.insert(args.begin(), "immudb");
    const char* env[] = {nullptr};
    return ParseConfig(static_cast<int>(args.size()), args.data(), env);
  };
  auto d = parse({});
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->config.web_server);
  EXPECT_EQ(d->config.web_server_port, 8080);
  EXPECT_TRUE(d->config.swaggerui);
  auto off = parse({"--web-server=false", "--web-server-port=9999", "--swaggerui=false"});
  ASSERT_TRUE(off.ok()) << off.status().ToString();
  EXPECT_FALSE(off->config.web_server);
  EXPECT_EQ(off->config.web_server_port, 9999);
  EXPECT_FALSE(off->config.swaggerui);
  for (const char* bad : {"--web-server-port=70000", "--web-server-port=-1", "--web-server-port=x",
                          "--web-server=maybe"}) {
    EXPECT_FALSE(parse({bad}).ok()) << bad;
  }
  // The same port as gRPC cannot work: refused at startup.
  EXPECT_FALSE(parse({"--port=8080"}).ok());
  EXPECT_TRUE(parse({"--port=8080", "--web-server=false"}).ok());
}

TEST(RestMappingTest, GrpcCodesMapAsGrpcGatewayDoes) {
  EXPECT_EQ(HttpStatusFromGrpcCode(0), 200);
  EXPECT_EQ(HttpStatusFromGrpcCode(2), 500);
  EXPECT_EQ(HttpStatusFromGrpcCode(3), 400);
  EXPECT_EQ(HttpStatusFromGrpcCode(5), 404);
  EXPECT_EQ(HttpStatusFromGrpcCode(7), 403);
  EXPECT_EQ(HttpStatusFromGrpcCode(9), 400);
  EXPECT_EQ(HttpStatusFromGrpcCode(12), 501);
  EXPECT_EQ(HttpStatusFromGrpcCode(13), 500);
  EXPECT_EQ(HttpStatusFromGrpcCode(14), 503);
  EXPECT_EQ(HttpStatusFromGrpcCode(16), 401);
  EXPECT_EQ(HttpStatusFromGrpcCode(99), 500);
}

}  // namespace
}  // namespace immudb::server
