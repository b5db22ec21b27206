// systemdb selected by UseDatabase or OpenSession (wire-api.md §5.3-§5.5):
// the sysadmin (and users granted a permission on it) reads the users there
// through the ordinary read calls, whose proofs verify; every other call is
// refused and nothing is written; it is never listed nor managed; it keeps
// working across restarts, also for a directory whose systemdb has no index.
#include <filesystem>
#include <set>

#include "immudb/database.h"
#include "immudb/hash.h"
#include "immudb/verify.h"
#include "server/convert.h"
#include "server/stream_framing.h"
#include "server/test_fixture.h"

namespace immudb::server {
namespace {

using google::protobuf::Empty;

const std::string kUserKeyPrefix(1, '\x01');

class SystemDbTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    admin_ = Login();
    ASSERT_TRUE(CreateUser(admin_, "alice", 2, "defaultdb").ok());
    sys_ = UseDatabase(admin_, "systemdb");
    ASSERT_FALSE(sys_.empty());
  }

  grpc::Status Use(const std::string& token, const std::string& db, std::string* out = nullptr) {
    schema::Database req;
    req.set_databasename(db);
    schema::UseDatabaseReply resp;
    grpc::Status st = stub_->UseDatabase(Ctx(token).get(), req, &resp);
    if (out != nullptr) *out = resp.token();
    return st;
  }

  grpc::Status GetKey(grpc::ClientContext* ctx, const std::string& key, schema::Entry* e) {
    schema::KeyRequest req;
    req.set_key(key);
    return stub_->Get(ctx, req, e);
  }

  uint64_t TxCount(const std::string& token) {
    schema::ImmutableState state;
    grpc::Status st = stub_->CurrentState(Ctx(token).get(), Empty(), &state);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return state.txid();
  }

  Empty empty_;
  std::string admin_;
  std::string sys_;  // The sysadmin's token with systemdb selected.
};

TEST_F(SystemDbTest, SysadminReadsTheUsers) {
  schema::Entry e;
  ASSERT_TRUE(GetKey(Ctx(sys_).get(), kUserKeyPrefix + "alice", &e).ok());
  EXPECT_EQ(e.key(), kUserKeyPrefix + "alice");
  EXPECT_NE(e.value().find("\"username\":\"alice\""), std::string::npos) << e.value();
  EXPECT_NE(e.value().find("\"hashedpassword\""), std::string::npos) << e.value();
  EXPECT_EQ(GetKey(Ctx(sys_).get(), kUserKeyPrefix + "nobody", &e).error_message(),
            "key not found");

  schema::ImmutableState state;
  ASSERT_TRUE(stub_->CurrentState(Ctx(sys_).get(), Empty(), &state).ok());
  EXPECT_EQ(state.db(), "systemdb");
  EXPECT_EQ(state.txid(), 2u);  // The sysadmin's creation, then alice's.

  schema::ScanRequest scan;
  scan.set_prefix(kUserKeyPrefix);
  schema::Entries entries;
  ASSERT_TRUE(stub_->Scan(Ctx(sys_).get(), scan, &entries).ok());
  std::set<std::string> keys;
  for (const auto& en : entries.entries()) keys.insert(en.key());
  EXPECT_EQ(keys, (std::set<std::string>{kUserKeyPrefix + "alice", kUserKeyPrefix + "immudb"}));

  schema::KeyPrefix prefix;
  prefix.set_prefix(kUserKeyPrefix);
  schema::EntryCount count;
  ASSERT_TRUE(stub_->Count(Ctx(sys_).get(), prefix, &count).ok());
  EXPECT_EQ(count.count(), 2u);

  // A changed user is a new version of its key.
  schema::ChangePermissionRequest cp;
  cp.set_action(schema::GRANT);
  cp.set_username("alice");
  cp.set_database("defaultdb");
  cp.set_permission(1);
  ASSERT_TRUE(stub_->ChangePermission(Ctx(admin_).get(), cp, &empty_).ok());
  schema::HistoryRequest hist;
  hist.set_key(kUserKeyPrefix + "alice");
  ASSERT_TRUE(stub_->History(Ctx(sys_).get(), hist, &entries).ok());
  ASSERT_EQ(entries.entries_size(), 2);
  EXPECT_EQ(entries.entries(1).tx(), 3u);
  EXPECT_NE(entries.entries(1).value().find("\"permission\":1"), std::string::npos);

  schema::TxRequest txr;
  txr.set_tx(1);
  schema::Tx tx;
  ASSERT_TRUE(stub_->TxById(Ctx(sys_).get(), txr, &tx).ok());
  ASSERT_EQ(tx.entries_size(), 1);
  EXPECT_EQ(tx.entries(0).key(), std::string(1, '\0') + kUserKeyPrefix + "immudb");
  schema::TxScanRequest ts;
  ts.set_initialtx(1);
  schema::TxList txs;
  ASSERT_TRUE(stub_->TxScan(Ctx(sys_).get(), ts, &txs).ok());
  EXPECT_EQ(txs.txs_size(), 3);

  schema::KeyListRequest all;
  all.add_keys(kUserKeyPrefix + "immudb");
  ASSERT_TRUE(stub_->GetAll(Ctx(sys_).get(), all, &entries).ok());
  EXPECT_EQ(entries.entries_size(), 1);
  schema::ZScanRequest zs;
  zs.set_set("none");
  schema::ZEntries zentries;
  ASSERT_TRUE(stub_->ZScan(Ctx(sys_).get(), zs, &zentries).ok());
  EXPECT_EQ(zentries.entries_size(), 0);

  // The calls immudb keeps out of systemdb, reads included.
  schema::DatabaseHealthResponse health;
  grpc::Status st = stub_->DatabaseHealth(Ctx(sys_).get(), Empty(), &health);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(st.error_message(), "permission denied");
  schema::DatabaseSettingsResponse settings;
  EXPECT_EQ(
      stub_->GetDatabaseSettingsV2(Ctx(sys_).get(), schema::DatabaseSettingsRequest(), &settings)
          .error_message(),
      "permission denied");
}

TEST_F(SystemDbTest, VerifiableReadsVerify) {
  // immudb's record is tx 1, the current state tx 2: a real dual proof.
  schema::VerifiableGetRequest req;
  req.mutable_keyrequest()->set_key(kUserKeyPrefix + "immudb");
  req.set_provesincetx(2);
  schema::VerifiableEntry ve;
  grpc::Status st = stub_->VerifiableGet(Ctx(sys_).get(), req, &ve);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(ve.entry().tx(), 1u);
  auto dp = FromProto(ve.verifiabletx().dualproof());
  ASSERT_TRUE(dp.ok());
  auto ip = FromProto(ve.inclusionproof());
  ASSERT_TRUE(ip.ok());
  const std::string key = EncodeKey(kUserKeyPrefix + "immudb");
  auto digest =
      EntryDigest(dp->source_tx_header.version, key, "", Sha256Of(EncodeValue(ve.entry().value())));
  ASSERT_TRUE(digest.ok());
  EXPECT_TRUE(verify::VerifyHtreeInclusion(*ip, *digest, dp->source_tx_header.eh));
  auto src_alh = dp->source_tx_header.Alh();
  auto tgt_alh = dp->target_tx_header.Alh();
  ASSERT_TRUE(src_alh.ok() && tgt_alh.ok());
  EXPECT_TRUE(verify::VerifyDualProof(*dp, 1, 2, *src_alh, *tgt_alh));
  // The state the client trusts is the one CurrentState reports.
  schema::ImmutableState state;
  ASSERT_TRUE(stub_->CurrentState(Ctx(sys_).get(), Empty(), &state).ok());
  EXPECT_EQ(state.txhash(), std::string(tgt_alh->begin(), tgt_alh->end()));
  // Another value does not verify.
  auto bad = EntryDigest(dp->source_tx_header.version, key, "", Sha256Of(EncodeValue("{}")));
  EXPECT_FALSE(verify::VerifyHtreeInclusion(*ip, *bad, dp->source_tx_header.eh));

  schema::VerifiableTxRequest vtr;
  vtr.set_tx(2);
  vtr.set_provesincetx(1);
  schema::VerifiableTx vtx;
  ASSERT_TRUE(stub_->VerifiableTxById(Ctx(sys_).get(), vtr, &vtx).ok());
  auto dp2 = FromProto(vtx.dualproof());
  ASSERT_TRUE(dp2.ok());
  auto a1 = dp2->source_tx_header.Alh();
  auto a2 = dp2->target_tx_header.Alh();
  ASSERT_TRUE(a1.ok() && a2.ok());
  EXPECT_EQ(*a1, *src_alh);
  EXPECT_TRUE(verify::VerifyDualProof(*dp2, 1, 2, *a1, *a2));
}

TEST_F(SystemDbTest, EveryWriteIsRefusedAndNothingIsWritten) {
  const uint64_t before = TxCount(sys_);
  auto denied = [](const grpc::Status& st, const char* what) {
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INTERNAL) << what << ": " << st.error_message();
    EXPECT_EQ(st.error_message(), "permission denied") << what;
  };
  const std::string key = kUserKeyPrefix + "mallory";
  schema::TxHeader hdr;
  schema::VerifiableTx vtx;
  {
    schema::SetRequest set;
    auto* kv = set.add_kvs();
    kv->set_key(key);
    kv->set_value("{}");
    denied(stub_->Set(Ctx(sys_).get(), set, &hdr), "Set");
    schema::VerifiableSetRequest vs;
    *vs.mutable_setrequest() = set;
    denied(stub_->VerifiableSet(Ctx(sys_).get(), vs, &vtx), "VerifiableSet");
  }
  {
    schema::DeleteKeysRequest del;
    del.add_keys(kUserKeyPrefix + "alice");
    denied(stub_->Delete(Ctx(sys_).get(), del, &hdr), "Delete");
  }
  {
    schema::ReferenceRequest ref;
    ref.set_key("ref");
    ref.set_referencedkey(kUserKeyPrefix + "alice");
    denied(stub_->SetReference(Ctx(sys_).get(), ref, &hdr), "SetReference");
    schema::VerifiableReferenceRequest vref;
    *vref.mutable_referencerequest() = ref;
    denied(stub_->VerifiableSetReference(Ctx(sys_).get(), vref, &vtx), "VerifiableSetReference");
  }
  {
    schema::ZAddRequest z;
    z.set_set("s");
    z.set_key(kUserKeyPrefix + "alice");
    denied(stub_->ZAdd(Ctx(sys_).get(), z, &hdr), "ZAdd");
    schema::VerifiableZAddRequest vz;
    *vz.mutable_zaddrequest() = z;
    denied(stub_->VerifiableZAdd(Ctx(sys_).get(), vz, &vtx), "VerifiableZAdd");
  }
  {
    schema::ExecAllRequest ex;
    auto* kv = ex.add_operations()->mutable_kv();
    kv->set_key(key);
    kv->set_value("{}");
    denied(stub_->ExecAll(Ctx(sys_).get(), ex, &hdr), "ExecAll");
  }
  for (int kind = 0; kind < 3; ++kind) {
    auto ctx = Ctx(sys_);
    schema::Chunk c;
    c.set_content(EncodeU64(key.size()) + key + EncodeU64(2) + "{}");
    grpc::Status st;
    if (kind == 0) {
      auto w = stub_->streamSet(ctx.get(), &hdr);
      w->Write(c);
      w->WritesDone();
      st = w->Finish();
    } else if (kind == 1) {
      auto w = stub_->streamVerifiableSet(ctx.get(), &vtx);
      w->Write(c);
      w->WritesDone();
      st = w->Finish();
    } else {
      auto w = stub_->streamExecAll(ctx.get(), &hdr);
      w->Write(c);
      w->WritesDone();
      st = w->Finish();
    }
    denied(st, "stream write");
  }
  {
    // read-write on systemdb cannot be granted.
    schema::ChangePermissionRequest cp;
    cp.set_action(schema::GRANT);
    cp.set_username("alice");
    cp.set_database("systemdb");
    cp.set_permission(2);
    denied(stub_->ChangePermission(Ctx(admin_).get(), cp, &empty_), "ChangePermission");
  }
  EXPECT_EQ(TxCount(sys_), before);
  schema::Entry e;
  EXPECT_EQ(GetKey(Ctx(sys_).get(), key, &e).error_message(), "key not found");
  ASSERT_TRUE(GetKey(Ctx(sys_).get(), kUserKeyPrefix + "alice", &e).ok());
  // alice still logs in: her record is untouched.
  EXPECT_FALSE(Login("alice", "Secret1!").empty());
}

TEST_F(SystemDbTest, OnlyUsersWithAPermissionOnItMaySelectIt) {
  const std::string alice = Login("alice", "Secret1!");
  grpc::Status st = Use(alice, "systemdb");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(st.error_message(), "Logged in user does not have permission on this database");

  grpc::ClientContext ctx;
  schema::OpenSessionRequest open;
  open.set_username("alice");
  open.set_password("Secret1!");
  open.set_databasename("systemdb");
  schema::OpenSessionResponse opened;
  st = stub_->OpenSession(&ctx, open, &opened);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(st.error_message(), "Logged in user does not have permission on this database");

  // As in immudb, the sysadmin may grant read access to systemdb; the user
  // then reads it and still cannot write.
  schema::ChangePermissionRequest cp;
  cp.set_action(schema::GRANT);
  cp.set_username("alice");
  cp.set_database("systemdb");
  cp.set_permission(1);
  ASSERT_TRUE(stub_->ChangePermission(Ctx(admin_).get(), cp, &empty_).ok());
  const std::string reader = Login("alice", "Secret1!");
  std::string alice_sys;
  ASSERT_TRUE(Use(reader, "systemdb", &alice_sys).ok());
  schema::Entry e;
  EXPECT_TRUE(GetKey(Ctx(alice_sys).get(), kUserKeyPrefix + "immudb", &e).ok());
  EXPECT_EQ(SetKey(alice_sys, "k", "v").error_message(), "permission denied");
}

TEST_F(SystemDbTest, SessionsOnSystemDb) {
  grpc::ClientContext ctx;
  schema::OpenSessionRequest open;
  open.set_username("immudb");
  open.set_password("immudb");
  open.set_databasename("SystemDB");  // Lower-cased, as immudb does.
  schema::OpenSessionResponse opened;
  grpc::Status st = stub_->OpenSession(&ctx, open, &opened);
  ASSERT_TRUE(st.ok()) << st.error_message();
  schema::Entry e;
  ASSERT_TRUE(GetKey(SessionCtx(opened.sessionid()).get(), kUserKeyPrefix + "alice", &e).ok());
  schema::ImmutableState state;
  ASSERT_TRUE(stub_->CurrentState(SessionCtx(opened.sessionid()).get(), Empty(), &state).ok());
  EXPECT_EQ(state.db(), "systemdb");
  EXPECT_EQ(SetKey(SessionCtx(opened.sessionid()).get(), "k", "v").error_message(),
            "permission denied");

  // UseDatabase re-binds a session to defaultdb and back.
  schema::Database use;
  use.set_databasename("defaultdb");
  schema::UseDatabaseReply reply;
  ASSERT_TRUE(stub_->UseDatabase(SessionCtx(opened.sessionid()).get(), use, &reply).ok());
  EXPECT_TRUE(SetKey(SessionCtx(opened.sessionid()).get(), "k", "v").ok());
  use.set_databasename("systemdb");
  ASSERT_TRUE(stub_->UseDatabase(SessionCtx(opened.sessionid()).get(), use, &reply).ok());
  EXPECT_EQ(GetKey(SessionCtx(opened.sessionid()).get(), "k", &e).error_message(), "key not found");
}

TEST_F(SystemDbTest, NeverListedNorManaged) {
  schema::DatabaseListResponse list;
  ASSERT_TRUE(stub_->DatabaseList(Ctx(admin_).get(), Empty(), &list).ok());
  for (const auto& d : list.databases()) EXPECT_NE(d.databasename(), "systemdb");
  schema::DatabaseListResponseV2 list2;
  ASSERT_TRUE(
      stub_->DatabaseListV2(Ctx(admin_).get(), schema::DatabaseListRequestV2(), &list2).ok());
  ASSERT_GT(list2.databases_size(), 0);
  for (const auto& d : list2.databases()) EXPECT_NE(d.name(), "systemdb");

  schema::Database create;
  create.set_databasename("systemdb");
  Empty out;
  EXPECT_EQ(stub_->CreateDatabase(Ctx(admin_).get(), create, &out).error_message(),
            "database is reserved");
  schema::LoadDatabaseRequest load;
  load.set_database("systemdb");
  schema::LoadDatabaseResponse loaded;
  EXPECT_EQ(stub_->LoadDatabase(Ctx(admin_).get(), load, &loaded).error_message(),
            "database is reserved");
  schema::UnloadDatabaseRequest unload;
  unload.set_database("systemdb");
  schema::UnloadDatabaseResponse unloaded;
  EXPECT_EQ(stub_->UnloadDatabase(Ctx(admin_).get(), unload, &unloaded).error_message(),
            "database is reserved");
  schema::DeleteDatabaseRequest del;
  del.set_database("systemdb");
  schema::DeleteDatabaseResponse deleted;
  EXPECT_EQ(stub_->DeleteDatabase(Ctx(admin_).get(), del, &deleted).error_message(),
            "database is reserved");
  // Still readable afterwards.
  schema::Entry e;
  EXPECT_TRUE(GetKey(Ctx(sys_).get(), kUserKeyPrefix + "immudb", &e).ok());
}

TEST_F(SystemDbTest, RestartKeepsUsersAndReads) {
  const uint64_t txs = TxCount(sys_);
  server_.reset();
  StartServer();
  admin_ = Login();
  sys_ = UseDatabase(admin_, "systemdb");
  EXPECT_EQ(TxCount(sys_), txs);
  schema::Entry e;
  ASSERT_TRUE(GetKey(Ctx(sys_).get(), kUserKeyPrefix + "alice", &e).ok());
  EXPECT_FALSE(Login("alice", "Secret1!").empty());

  // A directory whose systemdb has no key index (as written before systemdb
  // was opened as a database): the index is rebuilt from the log.
  server_.reset();
  const std::string index = dir_ + "/systemdb/index";
  ASSERT_TRUE(std::filesystem::is_directory(index));
  std::filesystem::remove_all(index);
  StartServer();
  EXPECT_FALSE(Login("alice", "Secret1!").empty());
  admin_ = Login();
  sys_ = UseDatabase(admin_, "systemdb");
  EXPECT_EQ(TxCount(sys_), txs);
  ASSERT_TRUE(GetKey(Ctx(sys_).get(), kUserKeyPrefix + "alice", &e).ok());
  EXPECT_NE(e.value().find("\"username\":\"alice\""), std::string::npos);
  // Users changed after the rebuild are indexed too.
  ASSERT_TRUE(CreateUser(admin_, "bob", 1, "defaultdb").ok());
  ASSERT_TRUE(GetKey(Ctx(sys_).get(), kUserKeyPrefix + "bob", &e).ok());
  EXPECT_EQ(e.tx(), txs + 1);
}

}  // namespace
}  // namespace immudb::server
