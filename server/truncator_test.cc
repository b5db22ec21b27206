// Per-database truncation settings (truncationSettings) and the periodic
// truncator (server/truncator.h): settings on the wire and on disk, immudb's
// limits, truncators that follow the databases' lifecycle, and periodic
// passes that really discard old values while proofs stay.
#include "server/truncator.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include "immudb/database.h"
#include "immudb/store.h"
#include "server/test_fixture.h"

namespace immudb::server {
namespace {

using std::chrono::milliseconds;

constexpr int64_t kHourMs = int64_t{3600} * 1000;
constexpr int64_t kDayMs = 24 * kHourMs;

schema::DatabaseNullableSettings Truncation(std::optional<int64_t> retention,
                                            std::optional<int64_t> frequency) {
  schema::DatabaseNullableSettings s;
  auto* ts = s.mutable_truncationsettings();
  if (retention) ts->mutable_retentionperiod()->set_value(*retention);
  if (frequency) ts->mutable_truncationfrequency()->set_value(*frequency);
  return s;
}

// Waits up to 10 s for `done`.
template <typename F>
bool WaitFor(F done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return true;
}

class TruncationTest : public ServerFixture {
 protected:
  grpc::Status Create(const std::string& token, const std::string& name,
                      const schema::DatabaseNullableSettings& s,
                      schema::CreateDatabaseResponse* resp = nullptr) {
    schema::CreateDatabaseRequest req;
    req.set_name(name);
    *req.mutable_settings() = s;
    schema::CreateDatabaseResponse ignored;
    return stub_->CreateDatabaseV2(Ctx(token).get(), req, resp ? resp : &ignored);
  }
  grpc::Status Update(const std::string& token, const std::string& name,
                      const schema::DatabaseNullableSettings& s,
                      schema::UpdateDatabaseResponse* resp = nullptr) {
    schema::UpdateDatabaseRequest req;
    req.set_database(name);
    *req.mutable_settings() = s;
    schema::UpdateDatabaseResponse ignored;
    return stub_->UpdateDatabaseV2(Ctx(token).get(), req, resp ? resp : &ignored);
  }
  // GetDatabaseSettingsV2 of `name` (through UseDatabase).
  schema::TruncationNullableSettings SettingsOf(const std::string& token, const std::string& name) {
    const std::string db = UseDatabase(token, name);
    schema::DatabaseSettingsResponse resp;
    grpc::Status st =
        stub_->GetDatabaseSettingsV2(Ctx(db).get(), schema::DatabaseSettingsRequest(), &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(resp.database(), name);
    return resp.settings().truncationsettings();
  }
  // DatabaseListV2's entry of `name`; empty when it is not listed.
  std::optional<schema::DatabaseInfo> Listed(const std::string& token, const std::string& name) {
    schema::DatabaseListResponseV2 resp;
    grpc::Status st =
        stub_->DatabaseListV2(Ctx(token).get(), schema::DatabaseListRequestV2(), &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    for (const auto& d : resp.databases()) {
      if (d.name() == name) return d;
    }
    return std::nullopt;
  }
  grpc::Status Unload(const std::string& token, const std::string& name) {
    schema::UnloadDatabaseRequest req;
    req.set_database(name);
    schema::UnloadDatabaseResponse resp;
    return stub_->UnloadDatabase(Ctx(token).get(), req, &resp);
  }
  grpc::Status Load(const std::string& token, const std::string& name) {
    schema::LoadDatabaseRequest req;
    req.set_database(name);
    schema::LoadDatabaseResponse resp;
    return stub_->LoadDatabase(Ctx(token).get(), req, &resp);
  }
  grpc::Status Delete(const std::string& token, const std::string& name) {
    schema::DeleteDatabaseRequest req;
    req.set_database(name);
    schema::DeleteDatabaseResponse resp;
    return stub_->DeleteDatabase(Ctx(token).get(), req, &resp);
  }
  std::vector<std::string> Running() const { return server_->truncation()->Running(); }
  // The stats of `name`'s truncator (zeros when it has none).
  Truncator::Stats StatsOf(const std::string& name) const {
    return server_->truncation()->StatsOf(name).value_or(Truncator::Stats{});
  }

  static void ExpectTruncation(const schema::TruncationNullableSettings& ts, int64_t retention,
                               int64_t frequency, const std::string& where) {
    EXPECT_TRUE(ts.has_retentionperiod()) << where;
    EXPECT_TRUE(ts.has_truncationfrequency()) << where;
    EXPECT_EQ(ts.retentionperiod().value(), retention) << where;
    EXPECT_EQ(ts.truncationfrequency().value(), frequency) << where;
  }
};

TEST_F(TruncationTest, SettingsRoundTripThroughCreateGetListUpdateAndRestart) {
  const std::string token = Login();
  schema::CreateDatabaseResponse created;
  ASSERT_TRUE(Create(token, "keep", Truncation(2 * kDayMs, 2 * kHourMs), &created).ok());
  ExpectTruncation(created.settings().truncationsettings(), 2 * kDayMs, 2 * kHourMs, "create");
  // Without truncation settings: no retention, immudb's default frequency.
  ASSERT_TRUE(Create(token, "plain", schema::DatabaseNullableSettings()).ok());
  ExpectTruncation(SettingsOf(token, "plain"), 0, kDefaultTruncationFrequencyMs, "plain");
  EXPECT_EQ(kDefaultTruncationFrequencyMs, kDayMs);
  ExpectTruncation(SettingsOf(token, "keep"), 2 * kDayMs, 2 * kHourMs, "get");
  auto listed = Listed(token, "keep");
  ASSERT_TRUE(listed.has_value());
  ExpectTruncation(listed->settings().truncationsettings(), 2 * kDayMs, 2 * kHourMs, "list");
  EXPECT_EQ(Running(), std::vector<std::string>{"keep"});

  // Only the retention period given: the frequency stays.
  schema::UpdateDatabaseResponse updated;
  ASSERT_TRUE(Update(token, "keep", Truncation(3 * kDayMs, std::nullopt), &updated).ok());
  ExpectTruncation(updated.settings().truncationsettings(), 3 * kDayMs, 2 * kHourMs, "update");
  // An update without truncation settings leaves them alone.
  schema::DatabaseNullableSettings other;
  other.mutable_maxkeylen()->set_value(100);
  ASSERT_TRUE(Update(token, "keep", other, &updated).ok());
  ExpectTruncation(updated.settings().truncationsettings(), 3 * kDayMs, 2 * kHourMs, "update2");

  // A restarted server reads them back and starts the truncator again.
  server_.reset();
  StartServer();
  const std::string token2 = Login();
  ExpectTruncation(SettingsOf(token2, "keep"), 3 * kDayMs, 2 * kHourMs, "after restart");
  ExpectTruncation(SettingsOf(token2, "plain"), 0, kDefaultTruncationFrequencyMs, "plain again");
  EXPECT_EQ(Running(), std::vector<std::string>{"keep"});

  // Retention 0: no truncation; the truncator stops at once.
  ASSERT_TRUE(Update(token2, "keep", Truncation(0, std::nullopt), &updated).ok());
  ExpectTruncation(updated.settings().truncationsettings(), 0, 2 * kHourMs, "retention 0");
  EXPECT_TRUE(Running().empty());
  // And a retention period given to a database that had none starts one.
  ASSERT_TRUE(Update(token2, "plain", Truncation(kDayMs, kHourMs)).ok());
  EXPECT_EQ(Running(), std::vector<std::string>{"plain"});
}

TEST_F(TruncationTest, ValuesOutsideImmudbsLimitsAreRefusedAndChangeNothing) {
  const std::string token = Login();
  auto refused = [](const grpc::Status& st, const std::string& text) {
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
    EXPECT_EQ(st.error_message(), text);
  };
  const std::string short_retention =
      "illegal arguments: invalid retention period for database 'bad'. RetentionPeriod should "
      "at least '24' hours";
  const std::string short_frequency =
      "illegal arguments: invalid truncation frequency for database 'bad'. TruncationFrequency "
      "should at least '1' hour";
  refused(Create(token, "bad", Truncation(kDayMs - 1, std::nullopt)), short_retention);
  refused(Create(token, "bad", Truncation(-1, std::nullopt)), short_retention);
  refused(Create(token, "bad", Truncation(kDayMs, kHourMs - 1)), short_frequency);
  refused(Create(token, "bad", Truncation(kDayMs, -kHourMs)), short_frequency);
  EXPECT_FALSE(Listed(token, "bad").has_value());
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/bad"));

  // The limits themselves, and 0 (immudb takes a frequency of 0; here it
  // means the default frequency), are accepted.
  ASSERT_TRUE(Create(token, "edge", Truncation(kDayMs, kHourMs)).ok());
  ExpectTruncation(SettingsOf(token, "edge"), kDayMs, kHourMs, "edge");
  ASSERT_TRUE(Create(token, "zero", Truncation(0, 0)).ok());
  ExpectTruncation(SettingsOf(token, "zero"), 0, 0, "zero");

  ASSERT_TRUE(Create(token, "good", Truncation(2 * kDayMs, 2 * kHourMs)).ok());
  const std::string settings_file = dir_ + "/good.settings";
  std::string before;
  {
    std::ifstream in(settings_file);
    before.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto bad_update = [&](const schema::DatabaseNullableSettings& s, const std::string& text) {
    std::string expected = text;
    expected.replace(expected.find("'bad'"), 5, "'good'");
    refused(Update(token, "good", s), expected);
  };
  bad_update(Truncation(kDayMs - 1000, std::nullopt), short_retention);
  bad_update(Truncation(std::nullopt, 59 * 60 * 1000), short_frequency);
  // A valid retention with an invalid frequency changes neither.
  bad_update(Truncation(5 * kDayMs, 1), short_frequency);
  ExpectTruncation(SettingsOf(token, "good"), 2 * kDayMs, 2 * kHourMs, "after refused updates");
  std::string after;
  {
    std::ifstream in(settings_file);
    after.assign(std::istreambuf_iterator<char>(in), {});
  }
  EXPECT_EQ(before, after);
  auto running = Running();
  std::sort(running.begin(), running.end());
  EXPECT_EQ(running, (std::vector<std::string>{"edge", "good"}));
}

TEST_F(TruncationTest, TruncatorsFollowUnloadLoadDeleteAndShutdownWithoutWaitingAPeriod) {
  const std::string token = Login();
  ASSERT_TRUE(Create(token, "life", Truncation(kDayMs, kHourMs)).ok());
  ASSERT_TRUE(Create(token, "other", Truncation(2 * kDayMs, kHourMs)).ok());
  auto running = Running();
  std::sort(running.begin(), running.end());
  EXPECT_EQ(running, (std::vector<std::string>{"life", "other"}));
  // The truncators wait an hour between passes: stopping must not.
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(Unload(token, "life").ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  EXPECT_EQ(Running(), std::vector<std::string>{"other"});
  ASSERT_TRUE(Load(token, "life").ok());
  running = Running();
  std::sort(running.begin(), running.end());
  EXPECT_EQ(running, (std::vector<std::string>{"life", "other"}));
  ASSERT_TRUE(Unload(token, "life").ok());
  // Settings updated while unloaded take effect at the next load.
  ASSERT_TRUE(Update(token, "life", Truncation(0, std::nullopt)).ok());
  EXPECT_EQ(Running(), std::vector<std::string>{"other"});
  ASSERT_TRUE(Delete(token, "life").ok());
  EXPECT_EQ(Running(), std::vector<std::string>{"other"});

  start = std::chrono::steady_clock::now();
  ASSERT_TRUE(server_->Shutdown().ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_TRUE(Running().empty());
}

// The periodic truncator at work: a frequency of 50 ms (the test hook) and a
// clock the test sets, so that txs can be three days old.
class PeriodicTruncationTest : public TruncationTest {
 protected:
  void Configure(ServerConfig* c) override {
    c->truncation_frequency_ms_override = 50;
    c->now_unix_seconds = [clock = clock_] { return clock->load(); };
  }
  std::shared_ptr<std::atomic<int64_t>> clock_ =
      std::make_shared<std::atomic<int64_t>>(static_cast<int64_t>(std::time(nullptr)));
};

TEST_F(PeriodicTruncationTest, OldValuesAreDiscardedRecentOnesAndProofsStay) {
  const int64_t now = clock_->load();
  clock_->store(now - 3 * 86400);
  const std::string token = Login();
  // The wire holds the retention period to 24 h; the frequency is the hook's.
  ASSERT_TRUE(Create(token, "aged", Truncation(kDayMs, kHourMs)).ok());
  const std::string db = UseDatabase(token, "aged");
  const std::string big(20000, 'v');  // Values that free whole blocks.
  for (int i = 1; i <= 5; i++) ASSERT_TRUE(SetKey(db, "k" + std::to_string(i), big).ok());
  // Passes run meanwhile and find nothing old enough.
  ASSERT_TRUE(WaitFor([&] { return StatsOf("aged").passes >= 2; }));
  EXPECT_EQ(StatsOf("aged").truncated_upto, 0u);
  clock_->store(now);
  ASSERT_TRUE(SetKey(db, "fresh", "now").ok());

  auto get = [&](const std::string& k, schema::Entry* e) {
    schema::KeyRequest kr;
    kr.set_key(k);
    return stub_->Get(Ctx(db).get(), kr, e);
  };
  schema::Entry e;
  ASSERT_TRUE(WaitFor([&] { return !get("k1", &e).ok(); })) << "no periodic truncation";
  // The cut is tx 5, the last one before yesterday's midnight: txs 1-4 lose
  // their values, tx 5 keeps its own.
  for (int i = 1; i <= 4; i++) {
    grpc::Status st = get("k" + std::to_string(i), &e);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << i;
    EXPECT_NE(st.error_message().find(kValueTruncatedMessage), std::string::npos)
        << st.error_message();
  }
  ASSERT_TRUE(get("k5", &e).ok());
  EXPECT_EQ(e.value(), big);
  ASSERT_TRUE(get("fresh", &e).ok());
  EXPECT_EQ(e.value(), "now");
  ASSERT_TRUE(server_->truncation()->StatsOf("aged").has_value());
  // The pass records its result after the values are gone: wait for it.
  EXPECT_TRUE(WaitFor([&] { return StatsOf("aged").truncated_upto == 4u; }))
      << StatsOf("aged").truncated_upto;
  EXPECT_EQ(StatsOf("aged").failures, 0u);

  // A verified read of a recent key still comes with its proofs; one of a
  // discarded value is refused, as a plain read.
  schema::VerifiableGetRequest vg;
  vg.mutable_keyrequest()->set_key("fresh");
  vg.set_provesincetx(1);
  schema::VerifiableEntry ve;
  grpc::Status st = stub_->VerifiableGet(Ctx(db).get(), vg, &ve);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(ve.entry().value(), "now");
  EXPECT_EQ(ve.verifiabletx().tx().header().id(), 6u);
  EXPECT_EQ(ve.verifiabletx().dualproof().sourcetxheader().id(), 1u);
  EXPECT_EQ(ve.verifiabletx().dualproof().targettxheader().id(), 6u);
  EXPECT_EQ(ve.inclusionproof().width(), 1);
  vg.mutable_keyrequest()->set_key("k2");
  st = stub_->VerifiableGet(Ctx(db).get(), vg, &ve);
  EXPECT_NE(st.error_message().find(kValueTruncatedMessage), std::string::npos)
      << st.error_message();
  // Headers and proofs of truncated txs are still served.
  schema::VerifiableTxRequest vr;
  vr.set_tx(2);
  vr.set_provesincetx(6);
  schema::VerifiableTx vt;
  st = stub_->VerifiableTxById(Ctx(db).get(), vr, &vt);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(vt.tx().header().id(), 2u);

  // Further passes change nothing.
  const uint64_t passes = StatsOf("aged").passes;
  ASSERT_TRUE(WaitFor([&] { return StatsOf("aged").passes > passes + 2; }));
  EXPECT_EQ(StatsOf("aged").truncated_upto, 4u);
  EXPECT_EQ(StatsOf("aged").failures, 0u);

  // DatabaseListV2's disk size is the files' apparent size, as immudb's (a
  // walk summing file sizes): the holes truncation punched are not taken
  // off it, though the file system got their blocks back.
  auto listed = Listed(token, "aged");
  ASSERT_TRUE(listed.has_value());
  uint64_t apparent = 0;
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir_ + "/aged")) {
    if (!f.is_regular_file()) continue;
    struct stat sb;
    ASSERT_EQ(::stat(f.path().c_str(), &sb), 0);
    apparent += static_cast<uint64_t>(sb.st_size);
  }
  EXPECT_EQ(listed->disksize(), apparent);

  // Unload: the truncator stops before the database closes.
  ASSERT_TRUE(Unload(token, "aged").ok());
  EXPECT_FALSE(server_->truncation()->StatsOf("aged").has_value());
}

// A pass that fails is logged and retried one period later; the truncator
// keeps running and stops when told.
TEST(TruncationManagerTest, AFailedPassIsRetriedNextPeriod) {
  const std::string dir =
      ::testing::TempDir() + "/immudb_truncation_manager_" + std::to_string(getpid());
  std::filesystem::remove_all(dir);
  DbHandle h;
  h.name = "broken";
  auto d = Database::Open(dir, DatabaseOptions());
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  h.db = std::move(d).value();
  ASSERT_TRUE(h.db->Set({KeyValue{"k", "v", {}}}, false).ok());
  ASSERT_TRUE(h.db->Close().ok());  // Every Truncate now fails: "database is closed".
  {
    TruncationManager m(milliseconds(20));
    DbSettings s;
    s.retention_period_ms = kDayMs;
    m.DatabaseOpen(&h, s);
    ASSERT_TRUE(
        WaitFor([&] { return m.StatsOf("broken").value_or(Truncator::Stats{}).failures >= 3; }));
    const auto stats = m.StatsOf("broken");
    ASSERT_TRUE(stats.has_value());
    EXPECT_EQ(stats->failures, stats->passes);
    EXPECT_EQ(m.Running(), std::vector<std::string>{"broken"});
    m.DatabaseClosing("broken");
    EXPECT_TRUE(m.Running().empty());
  }
  std::filesystem::remove_all(dir);
}

// The settings file: the truncation settings are written and read back;
// files written before they existed read as no retention and the default
// frequency.
TEST(DbSettingsTest, TruncationSettingsEncodeAndDecode) {
  DbSettings s;
  s.retention_period_ms = 7 * kDayMs;
  s.truncation_frequency_ms = 3 * kHourMs;
  auto back = DbSettings::Decode(s.Encode());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->retention_period_ms, 7 * kDayMs);
  EXPECT_EQ(back->truncation_frequency_ms, 3 * kHourMs);
  auto old = DbSettings::Decode("maxKeyLen=1024\nautoload=true\n");
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_EQ(old->retention_period_ms, 0);
  EXPECT_EQ(old->truncation_frequency_ms, kDefaultTruncationFrequencyMs);
  EXPECT_FALSE(DbSettings::Decode("retentionPeriod=-5\n").ok());
  EXPECT_FALSE(DbSettings::Decode("truncationFrequency=x\n").ok());
}

}  // namespace
}  // namespace immudb::server
