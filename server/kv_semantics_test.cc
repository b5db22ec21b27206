// The request fields of the key-value RPCs over the wire: preconditions on
// Set/VerifiableSet/SetReference/ExecAll (FAILED_PRECONDITION, nothing
// written), ExecAll's bound references, Scan and ZScan bounds, History of a
// reference, GetAll and the sinceTx errors.
#include "immudb/database.h"
#include "server/test_fixture.h"

namespace immudb::server {
namespace {

using google::protobuf::Empty;

class KvSemanticsTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    token_ = Login();
  }
  uint64_t LastTx() {
    schema::ImmutableState st;
    EXPECT_TRUE(stub_->CurrentState(Ctx(token_).get(), Empty(), &st).ok());
    return st.txid();
  }
  static void MustExist(schema::Precondition* p, const std::string& k) {
    p->mutable_keymustexist()->set_key(k);
  }
  static void MustNotExist(schema::Precondition* p, const std::string& k) {
    p->mutable_keymustnotexist()->set_key(k);
  }
  static schema::SetRequest SetReq(const std::string& k, const std::string& v) {
    schema::SetRequest r;
    auto* kv = r.add_kvs();
    kv->set_key(k);
    kv->set_value(v);
    return r;
  }
  grpc::Status Set(const schema::SetRequest& r, schema::TxHeader* h = nullptr) {
    schema::TxHeader ignored;
    return stub_->Set(Ctx(token_).get(), r, h ? h : &ignored);
  }
  std::vector<std::string> ScanKeys(const schema::ScanRequest& r) {
    schema::Entries es;
    grpc::Status st = stub_->Scan(Ctx(token_).get(), r, &es);
    EXPECT_TRUE(st.ok()) << st.error_message();
    std::vector<std::string> out;
    for (const auto& e : es.entries()) out.push_back(e.key());
    return out;
  }
  std::vector<std::string> ZScanKeys(const schema::ZScanRequest& r) {
    schema::ZEntries es;
    grpc::Status st = stub_->ZScan(Ctx(token_).get(), r, &es);
    EXPECT_TRUE(st.ok()) << st.error_message();
    std::vector<std::string> out;
    for (const auto& e : es.entries()) out.push_back(e.key());
    return out;
  }

  std::string token_;
};

TEST_F(KvSemanticsTest, SetPreconditionsFailWithFailedPreconditionAndWriteNothing) {
  schema::SetRequest r = SetReq("a", "1");
  MustExist(r.add_preconditions(), "a");
  grpc::Status st = Set(r);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(st.error_message(), "precondition failed: KeyMustExist");
  EXPECT_EQ(LastTx(), 0u);

  r = SetReq("a", "1");
  MustNotExist(r.add_preconditions(), "a");
  ASSERT_TRUE(Set(r).ok());
  st = Set(r);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(st.error_message(), "precondition failed: KeyMustNotExist");

  r = SetReq("a", "2");
  auto* nm = r.add_preconditions()->mutable_keynotmodifiedaftertx();
  nm->set_key("a");
  nm->set_txid(1);
  ASSERT_TRUE(Set(r).ok());
  EXPECT_EQ(Set(r).error_message(), "precondition failed: KeyNotModifiedAfterTxID");
  EXPECT_EQ(LastTx(), 2u);

  // Malformed preconditions: immudb's texts, UNKNOWN, nothing written.
  r = SetReq("a", "3");
  r.add_preconditions();  // No kind set.
  st = Set(r);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(st.error_message(), "invalid precondition: null");
  r = SetReq("a", "3");
  MustExist(r.add_preconditions(), "");
  EXPECT_EQ(Set(r).error_message(), "invalid precondition: null key");
  r = SetReq("a", "3");
  r.add_preconditions()->mutable_keynotmodifiedaftertx()->set_key("a");
  EXPECT_EQ(Set(r).error_message(),
            "invalid precondition: invalid precondition: invalid transaction ID");
  EXPECT_EQ(LastTx(), 2u);
}

TEST_F(KvSemanticsTest, PreconditionsOnVerifiableSetReferenceAndExecAll) {
  ASSERT_TRUE(SetKey(token_, "a", "1").ok());
  schema::VerifiableSetRequest vs;
  *vs.mutable_setrequest() = SetReq("b", "1");
  MustExist(vs.mutable_setrequest()->add_preconditions(), "zz");
  schema::VerifiableTx vtx;
  EXPECT_EQ(stub_->VerifiableSet(Ctx(token_).get(), vs, &vtx).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  schema::ReferenceRequest ref;
  ref.set_key("r");
  ref.set_referencedkey("a");
  MustExist(ref.add_preconditions(), "r");
  schema::TxHeader hdr;
  EXPECT_EQ(stub_->SetReference(Ctx(token_).get(), ref, &hdr).error_message(),
            "precondition failed: KeyMustExist");

  schema::ExecAllRequest ex;
  auto* kv = ex.add_operations()->mutable_kv();
  kv->set_key("c");
  kv->set_value("1");
  MustExist(ex.add_preconditions(), "c");
  EXPECT_EQ(stub_->ExecAll(Ctx(token_).get(), ex, &hdr).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(LastTx(), 1u);

  ex.clear_preconditions();
  MustNotExist(ex.add_preconditions(), "c");
  ASSERT_TRUE(stub_->ExecAll(Ctx(token_).get(), ex, &hdr).ok());
  ref.clear_preconditions();
  MustNotExist(ref.add_preconditions(), "r");
  ASSERT_TRUE(stub_->SetReference(Ctx(token_).get(), ref, &hdr).ok());
  EXPECT_EQ(LastTx(), 3u);
}

TEST_F(KvSemanticsTest, ExecAllBoundReferenceWithoutAtTxBindsToItsOwnTx) {
  schema::ExecAllRequest ex;
  auto* kv = ex.add_operations()->mutable_kv();
  kv->set_key("k");
  kv->set_value("v1");
  auto* ref = ex.add_operations()->mutable_ref();
  ref->set_key("r");
  ref->set_referencedkey("k");
  ref->set_boundref(true);
  ex.set_nowait(true);
  schema::TxHeader hdr;
  grpc::Status st = stub_->ExecAll(Ctx(token_).get(), ex, &hdr);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_TRUE(SetKey(token_, "k", "v2").ok());
  schema::KeyRequest kr;
  kr.set_key("r");
  schema::Entry e;
  ASSERT_TRUE(stub_->Get(Ctx(token_).get(), kr, &e).ok());
  EXPECT_EQ(e.value(), "v1");
  EXPECT_EQ(e.referencedby().attx(), hdr.id());

  // Without the bound flag a no-wait batch cannot be checked.
  ref->set_boundref(false);
  ref->set_key("r2");
  kv->set_key("k2");
  st = stub_->ExecAll(Ctx(token_).get(), ex, &hdr);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(st.error_message().rfind("no wait operation must be self-contained", 0), 0u);
  EXPECT_EQ(LastTx(), 2u);
}

TEST_F(KvSemanticsTest, ScanAndZScanBounds) {
  for (const char* k : {"a1", "a2", "a3", "a4"}) ASSERT_TRUE(SetKey(token_, k, k).ok());
  schema::ScanRequest s;
  s.set_seekkey("a1");
  s.set_endkey("a3");
  s.set_inclusiveend(true);
  EXPECT_EQ(ScanKeys(s), (std::vector<std::string>{"a2", "a3"}));
  s.set_desc(true);
  s.set_seekkey("a4");
  s.set_endkey("a1");
  s.set_inclusiveseek(true);
  s.set_inclusiveend(false);
  s.set_offset(1);
  EXPECT_EQ(ScanKeys(s), (std::vector<std::string>{"a3", "a2"}));
  s.Clear();
  s.set_sincetx(99);
  schema::Entries es;
  grpc::Status st = stub_->Scan(Ctx(token_).get(), s, &es);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message(), "illegal arguments");

  int score = 0;
  for (const char* k : {"a1", "a2", "a3", "a4"}) {
    schema::ZAddRequest z;
    z.set_set("s");
    z.set_key(k);
    z.set_score(++score);
    schema::TxHeader hdr;
    ASSERT_TRUE(stub_->ZAdd(Ctx(token_).get(), z, &hdr).ok());
  }
  schema::ZScanRequest zr;
  zr.set_set("s");
  zr.mutable_minscore()->set_score(2);
  zr.mutable_maxscore()->set_score(3);
  EXPECT_EQ(ZScanKeys(zr), (std::vector<std::string>{"a2", "a3"}));
  zr.Clear();
  zr.set_set("s");
  zr.set_seekkey("a2");
  zr.set_seekscore(2);
  zr.set_inclusiveseek(true);
  zr.set_limit(2);
  EXPECT_EQ(ZScanKeys(zr), (std::vector<std::string>{"a2", "a3"}));
  zr.set_desc(true);
  zr.set_inclusiveseek(false);
  EXPECT_EQ(ZScanKeys(zr), (std::vector<std::string>{"a1"}));
  zr.set_limit(3000);
  schema::ZEntries ze;
  st = stub_->ZScan(Ctx(token_).get(), zr, &ze);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(st.error_message().rfind("result size limit exceeded", 0), 0u);
}

TEST_F(KvSemanticsTest, HistoryOfAReferenceAndGetAllWithReferences) {
  ASSERT_TRUE(SetKey(token_, "t", "1").ok());
  schema::ReferenceRequest ref;
  ref.set_key("r");
  ref.set_referencedkey("t");
  schema::TxHeader hdr;
  ASSERT_TRUE(stub_->SetReference(Ctx(token_).get(), ref, &hdr).ok());
  schema::HistoryRequest hr;
  hr.set_key("r");
  schema::Entries es;
  ASSERT_TRUE(stub_->History(Ctx(token_).get(), hr, &es).ok());
  ASSERT_EQ(es.entries_size(), 1);
  EXPECT_EQ(es.entries(0).key(), "r");
  EXPECT_EQ(es.entries(0).value(), EncodeReferenceValue("t", 0).substr(1));
  EXPECT_FALSE(es.entries(0).has_referencedby());

  schema::KeyListRequest kl;
  kl.add_keys("r");
  kl.add_keys("missing");
  kl.add_keys("t");
  ASSERT_TRUE(stub_->GetAll(Ctx(token_).get(), kl, &es).ok());
  ASSERT_EQ(es.entries_size(), 2);
  EXPECT_EQ(es.entries(0).key(), "t");
  EXPECT_EQ(es.entries(0).referencedby().key(), "r");
  kl.set_sincetx(50);
  grpc::Status st = stub_->GetAll(Ctx(token_).get(), kl, &es);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  schema::DeleteKeysRequest dk;
  dk.add_keys("t");
  dk.set_sincetx(50);
  EXPECT_EQ(stub_->Delete(Ctx(token_).get(), dk, &hdr).error_message(), "tx not found");
  EXPECT_EQ(LastTx(), 2u);
}

}  // namespace
}  // namespace immudb::server
