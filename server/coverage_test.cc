// Behaviour that had no test: CountAll, GetDatabaseSettingsV2, the calls
// that are never supported (UpdateAuthConfig, UpdateMTLSConfig), the
// sysadmin password options, immudb's permission and login texts
// (wire-api.md §6), and the JSON log format.
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include "immudb/json_escape.h"
#include "server/errors.h"
#include "server/json.h"
#include "server/log_format.h"
#include "server/test_fixture.h"

namespace immudb::server {
namespace {

using google::protobuf::Empty;

class CoverageTest : public ServerFixture {
 protected:
  uint64_t CountAll(const std::string& token) {
    schema::EntryCount n;
    grpc::Status st = stub_->CountAll(Ctx(token).get(), Empty(), &n);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return n.count();
  }
  grpc::Status Use(const std::string& token, const std::string& db, std::string* db_token) {
    schema::Database req;
    req.set_databasename(db);
    schema::UseDatabaseReply resp;
    grpc::Status st = stub_->UseDatabase(Ctx(token).get(), req, &resp);
    *db_token = resp.token();
    return st;
  }
};

TEST_F(CoverageTest, CountAllCountsKeysOfTheSelectedDatabase) {
  const std::string token = Login();
  EXPECT_EQ(CountAll(token), 0u);
  ASSERT_TRUE(SetKey(token, "a", "1").ok());
  ASSERT_TRUE(SetKey(token, "b", "2").ok());
  ASSERT_TRUE(SetKey(token, "a", "3").ok());  // A new version, not a new key.
  EXPECT_EQ(CountAll(token), 2u);
  // A reference is a key; a sorted-set member is not.
  schema::ReferenceRequest ref;
  ref.set_key("r");
  ref.set_referencedkey("a");
  schema::TxHeader hdr;
  ASSERT_TRUE(stub_->SetReference(Ctx(token).get(), ref, &hdr).ok());
  schema::ZAddRequest z;
  z.set_set("s");
  z.set_key("a");
  z.set_score(1);
  ASSERT_TRUE(stub_->ZAdd(Ctx(token).get(), z, &hdr).ok());
  EXPECT_EQ(CountAll(token), 3u);
  // Deleted keys still count, as in immudb.
  schema::DeleteKeysRequest del;
  del.add_keys("b");
  ASSERT_TRUE(stub_->Delete(Ctx(token).get(), del, &hdr).ok());
  EXPECT_EQ(CountAll(token), 3u);
  schema::KeyPrefix prefix;
  prefix.set_prefix("a");
  schema::EntryCount n;
  ASSERT_TRUE(stub_->Count(Ctx(token).get(), prefix, &n).ok());
  EXPECT_EQ(n.count(), 1u);

  // Per database; read permission is enough; a login is needed.
  schema::CreateDatabaseRequest create;
  create.set_name("other");
  schema::CreateDatabaseResponse created;
  ASSERT_TRUE(stub_->CreateDatabaseV2(Ctx(token).get(), create, &created).ok());
  ASSERT_TRUE(CreateUser(token, "reader", 1, "other").ok());
  std::string other;
  ASSERT_TRUE(Use(Login("reader", "Secret1!"), "other", &other).ok());
  EXPECT_EQ(CountAll(other), 0u);
  EXPECT_EQ(stub_->CountAll(Ctx("").get(), Empty(), &n).error_message(), "not logged in");
}

TEST_F(CoverageTest, GetDatabaseSettingsV2ReturnsTheSelectedDatabasesSettings) {
  const std::string token = Login();
  schema::DatabaseSettingsResponse resp;
  ASSERT_TRUE(
      stub_->GetDatabaseSettingsV2(Ctx(token).get(), schema::DatabaseSettingsRequest(), &resp)
          .ok());
  EXPECT_EQ(resp.database(), "defaultdb");
  EXPECT_EQ(resp.settings().maxkeylen().value(), 1024u);
  EXPECT_EQ(resp.settings().maxtxentries().value(), 1024u);
  EXPECT_EQ(resp.settings().maxvaluelen().value(), 32u << 20);
  EXPECT_TRUE(resp.settings().autoload().value());

  schema::CreateDatabaseRequest create;
  create.set_name("tuned");
  create.mutable_settings()->mutable_maxkeylen()->set_value(100);
  create.mutable_settings()->mutable_excludecommittime()->set_value(true);
  schema::CreateDatabaseResponse created;
  ASSERT_TRUE(stub_->CreateDatabaseV2(Ctx(token).get(), create, &created).ok());
  ASSERT_TRUE(CreateUser(token, "reader", 1, "tuned").ok());
  std::string tuned;
  ASSERT_TRUE(Use(Login("reader", "Secret1!"), "tuned", &tuned).ok());
  ASSERT_TRUE(
      stub_->GetDatabaseSettingsV2(Ctx(tuned).get(), schema::DatabaseSettingsRequest(), &resp)
          .ok());
  EXPECT_EQ(resp.database(), "tuned");
  EXPECT_EQ(resp.settings().maxkeylen().value(), 100u);
  EXPECT_TRUE(resp.settings().excludecommittime().value());
  EXPECT_FALSE(resp.settings().replicationsettings().replica().value());
  grpc::Status st =
      stub_->GetDatabaseSettingsV2(Ctx(Login()).get(), schema::DatabaseSettingsRequest(), &resp);
  EXPECT_EQ(st.error_message(), "please select a database first");
}

TEST_F(CoverageTest, AuthAndMtlsConfigUpdatesAreNeverSupported) {
  const std::string token = Login();
  Empty out;
  schema::AuthConfig auth;
  auth.set_kind(1);
  grpc::Status st = stub_->UpdateAuthConfig(Ctx(token).get(), auth, &out);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(st.error_message(), "operation not supported");
  schema::MTLSConfig mtls;
  mtls.set_enabled(true);
  st = stub_->UpdateMTLSConfig(Ctx(token).get(), mtls, &out);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(st.error_message(), "operation not supported");
}

TEST_F(CoverageTest, PermissionAndLoginTexts) {
  const std::string admin = Login();
  schema::CreateDatabaseRequest create;
  create.set_name("private");
  schema::CreateDatabaseResponse created;
  ASSERT_TRUE(stub_->CreateDatabaseV2(Ctx(admin).get(), create, &created).ok());
  ASSERT_TRUE(CreateUser(admin, "bob", 2, "defaultdb").ok());
  const std::string bob = Login("bob", "Secret1!");

  // UseDatabase: no permission there; no login at all.
  std::string ignored;
  grpc::Status st = Use(bob, "private", &ignored);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(st.error_message(), "Logged in user does not have permission on this database");
  for (const std::string& token : {std::string(), std::string("immt.unknown")}) {
    st = Use(token, "defaultdb", &ignored);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAUTHENTICATED) << token;
    EXPECT_EQ(st.error_message(), "Please login") << token;
  }
  EXPECT_TRUE(Use(bob, "defaultdb", &ignored).ok());

  // Creating a database needs the sysadmin.
  create.set_name("bobs");
  st = stub_->CreateDatabaseV2(Ctx(bob).get(), create, &created);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(st.error_message(), "loggedin user does not have permissions for this operation");
  schema::Database v1;
  v1.set_databasename("bobs");
  Empty out;
  EXPECT_EQ(stub_->CreateDatabase(Ctx(bob).get(), v1, &out).error_message(),
            "loggedin user does not have permissions for this operation");
}

class AdminPasswordTest : public ServerFixture {
 protected:
  void Configure(ServerConfig* c) override {
    c->admin_password = password_;
    c->force_admin_password = force_;
  }
  grpc::Status TryLogin(const std::string& pw) {
    grpc::ClientContext ctx;
    schema::LoginRequest req;
    req.set_user("immudb");
    req.set_password(pw);
    schema::LoginResponse resp;
    return stub_->Login(&ctx, req, &resp);
  }
  void Restart(const std::string& password, bool force) {
    password_ = password;
    force_ = force;
    server_.reset();
    StartServer();
  }

  // The first start (SetUp) creates the sysadmin with this password.
  std::string password_ = "Initial1!";
  bool force_ = false;
};

TEST_F(AdminPasswordTest, AppliedAtCreationOrWhenForced) {
  EXPECT_TRUE(TryLogin("Initial1!").ok());
  EXPECT_EQ(TryLogin("immudb").error_message(), kErrInvalidLogin);

  // Later starts keep the stored password unless forced.
  Restart("Second2@", false);
  EXPECT_TRUE(TryLogin("Initial1!").ok());
  EXPECT_FALSE(TryLogin("Second2@").ok());

  // enc: + base64 ("Third3#" here), forced.
  Restart("enc:VGhpcmQzIw==", true);
  EXPECT_TRUE(TryLogin("Third3#").ok());
  EXPECT_FALSE(TryLogin("Initial1!").ok());
  EXPECT_FALSE(TryLogin("enc:VGhpcmQzIw==").ok());

  // A bad enc: value or an empty password stops the start, changing nothing.
  for (const char* bad : {"enc:not*base64", "enc:", ""}) {
    server_.reset();
    ServerConfig c = LoopbackConfig(dir_);
    c.admin_password = bad;
    c.force_admin_password = true;
    auto s = Server::Open(c);
    EXPECT_FALSE(s.ok()) << bad;
  }
  Restart("ignored", false);
  EXPECT_TRUE(TryLogin("Third3#").ok());
}

TEST(JsonLogFormatTest, EveryMessageIsOneValidJsonLine) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  auto logger = std::make_shared<spdlog::logger>("immudb", sink);
  logger->set_formatter(NewJsonLogFormatter());
  const std::string messages[] = {
      "plain",
      R"(quoted "name" and a \ backslash)",
      "two\nlines\r\nand a\ttab",
      std::string("control \x01\x1f\x7f bytes"),
      "utf-8: \xc3\xa9\xe2\x82\xac, broken: \xc3\x28 \xff",
      "{\"looks\":\"like json\"}",
  };
  for (const std::string& m : messages) logger->info("{}", m);
  logger->warn("a warning");
  logger->flush();

  std::istringstream lines(out.str());
  std::string line;
  size_t i = 0;
  while (std::getline(lines, line)) {
    auto j = Json::Parse(line);
    ASSERT_TRUE(j.ok()) << j.status().ToString() << ": " << line;
    ASSERT_TRUE(j->Find("message") && j->Find("message")->as_string()) << line;
    if (i < std::size(messages) && i != 4) {  // 4: invalid UTF-8, replaced.
      EXPECT_EQ(*j->Find("message")->as_string(), messages[i]) << line;
    }
    EXPECT_EQ(*j->Find("module")->as_string(), "immudb");
    EXPECT_EQ(*j->Find("level")->as_string(), i < std::size(messages) ? "info" : "warning");
    EXPECT_FALSE(j->Find("timestamp")->as_string()->empty());
    ++i;
  }
  EXPECT_EQ(i, std::size(messages) + 1);
  // Control bytes come back as themselves; invalid UTF-8 as U+FFFD.
  EXPECT_EQ(JsonEscape("\x01\x7f"), "\\u0001\\u007f");
  EXPECT_EQ(JsonEscape("\xc3\xa9"), "\xc3\xa9");
  EXPECT_EQ(JsonEscape("a\xff"
                       "b"),
            "a\xef\xbf\xbd"
            "b");
  EXPECT_EQ(JsonEscape("\xed\xa0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");  // Surrogate.
}

}  // namespace
}  // namespace immudb::server
