// Every Verifiable* reply checked the way a client checks it (proofs.md §7):
// the leaf digest is rebuilt from the user's key and value, never taken from
// the reply.
#include <gtest/gtest.h>

#include "database/database_test_util.h"
#include "htree/htree.h"
#include "immudb/verify.h"
#include "util/op_phases.h"

namespace immudb {
namespace {

struct ClientState {
  uint64_t tx = 0;
  Hash alh = EmptyHash();
};

Hash Digest(uint16_t version, const std::string& key, const KVMetadata& md,
            const std::string& stored_value) {
  auto d = EntryDigest(version, key, md.Encode(), Sha256Of(stored_value));
  EXPECT_TRUE(d.ok());
  return d.ok() ? *d : Hash{};
}

// Go VerifiedSet / VerifiedSetReference / VerifiedZAdd: rebuild Eh from the
// reply's entries, prove the expected leaf, then link the trusted state.
bool VerifyWrite(const VerifiableTx& vt, const std::string& stored_key,
                 const std::string& stored_value, ClientState* st) {
  const TxHeader& h = vt.tx.header;
  std::vector<Hash> digests;
  int found = -1;
  for (size_t i = 0; i < vt.tx.entries.size(); i++) {
    const TxEntry& e = vt.tx.entries[i];
    digests.push_back(*e.Digest(h.version));
    if (e.key == stored_key) found = static_cast<int>(i);
  }
  if (found < 0 || vt.tx.entries[found].md.deleted) return false;
  HTree tree;
  tree.Build(digests);
  const Hash expected = Digest(h.version, stored_key, vt.tx.entries[found].md, stored_value);
  if (!verify::VerifyHtreeInclusion(*tree.Proof(found), expected, tree.Root())) return false;
  if (tree.Root() != vt.dual_proof.target_tx_header.eh) return false;
  TxHeader rebuilt = h;
  rebuilt.eh = tree.Root();
  const Hash alh = *rebuilt.Alh();
  const uint64_t src = st->tx > 0 ? st->tx : h.id;
  const Hash src_alh = st->tx > 0 ? st->alh : alh;
  if (!verify::VerifyDualProof(vt.dual_proof, src, h.id, src_alh, alh)) return false;
  *st = ClientState{h.id, alh};
  return true;
}

// Go verifiedGet.
bool VerifyGet(const VerifiableEntry& ve, const std::string& requested, uint64_t at_tx,
               ClientState* st) {
  const Entry& e = ve.entry;
  const uint16_t version = ve.verifiable_tx.tx.header.version;
  Hash digest;
  uint64_t v_tx;
  if (!e.referenced_by) {
    digest = Digest(version, EncodeKey(requested), e.md, EncodeValue(e.value));
    v_tx = at_tx > 0 ? at_tx : e.tx;
  } else {
    digest = Digest(version, EncodeKey(requested), e.referenced_by->md,
                    EncodeReferenceValue(e.key, e.referenced_by->at_tx));
    v_tx = e.referenced_by->tx;
  }
  const DualProof& dp = ve.verifiable_tx.dual_proof;
  Hash eh;
  uint64_t src, dst;
  Hash src_alh, dst_alh;
  if (st->tx <= v_tx) {
    eh = dp.target_tx_header.eh;
    src = st->tx;
    src_alh = st->alh;
    dst = v_tx;
    dst_alh = *dp.target_tx_header.Alh();
    if (dp.target_tx_header.id != v_tx) return false;
  } else {
    eh = dp.source_tx_header.eh;
    src = v_tx;
    src_alh = *dp.source_tx_header.Alh();
    dst = st->tx;
    dst_alh = st->alh;
    if (dp.source_tx_header.id != v_tx) return false;
  }
  if (!verify::VerifyHtreeInclusion(ve.inclusion_proof, digest, eh)) return false;
  if (st->tx > 0 && !verify::VerifyDualProof(dp, src, dst, src_alh, dst_alh)) return false;
  *st = ClientState{dst, dst_alh};
  return true;
}

class DatabaseVerifiableTest : public testing_db::DbFixture {};

TEST_F(DatabaseVerifiableTest, SetsChainTheClientState) {
  ClientState st;
  for (int i = 0; i < 12; i++) {
    const std::string k = "k" + std::to_string(i % 4), v = "v" + std::to_string(i);
    auto vt = db_->VerifiableSet({KeyValue{k, v, {}}, KeyValue{"other", v, {}}}, false, st.tx);
    ASSERT_TRUE(vt.ok()) << vt.status().ToString();
    ASSERT_TRUE(VerifyWrite(*vt, EncodeKey(k), EncodeValue(v), &st)) << i;
    // A client with a wrong value rejects the reply.
    ClientState copy = st;
    EXPECT_FALSE(VerifyWrite(*vt, EncodeKey(k), EncodeValue(v + "x"), &copy));
  }
  EXPECT_EQ(st.tx, db_->CurrentState().tx_id);
  EXPECT_EQ(st.alh, db_->CurrentState().alh);
}

TEST_F(DatabaseVerifiableTest, SetWithMetadataUsesVersionOneDigest) {
  ClientState st;
  KVMetadata md;
  md.expires_at = 1 << 30;
  auto vt = db_->VerifiableSet({KeyValue{"exp", "v", md}}, false, 0);
  ASSERT_TRUE(vt.ok());
  EXPECT_EQ(vt->tx.header.version, 1);
  EXPECT_TRUE(VerifyWrite(*vt, EncodeKey("exp"), EncodeValue("v"), &st));
  auto ve = db_->VerifiableGet(KeyRequest{"exp"}, st.tx);
  ASSERT_TRUE(ve.ok()) << ve.status().ToString();
  EXPECT_TRUE(VerifyGet(*ve, "exp", 0, &st));
}

TEST_F(DatabaseVerifiableTest, GetsProveOlderAndNewerTxsAgainstTheState) {
  MustSet("a", "a1");
  MustSet("b", "b1");
  MustSet("a", "a2");
  ClientState st;
  // No trusted state: the proof is from the tx to itself.
  auto ve = db_->VerifiableGet(KeyRequest{"b"}, 0);
  ASSERT_TRUE(ve.ok());
  EXPECT_EQ(ve->verifiable_tx.dual_proof.source_tx_header.id, 2u);
  EXPECT_EQ(ve->verifiable_tx.dual_proof.target_tx_header.id, 2u);
  ASSERT_TRUE(VerifyGet(*ve, "b", 0, &st));
  EXPECT_EQ(st.tx, 2u);
  // State (2) older than the entry (3): state is the source.
  ve = db_->VerifiableGet(KeyRequest{"a"}, st.tx);
  ASSERT_TRUE(ve.ok());
  ASSERT_TRUE(VerifyGet(*ve, "a", 0, &st));
  EXPECT_EQ(st.tx, 3u);
  EXPECT_EQ(ve->entry.value, "a2");
  // State (3) newer than the entry read at tx 1: state is the target.
  KeyRequest at1{"a"};
  at1.at_tx = 1;
  ve = db_->VerifiableGet(at1, st.tx);
  ASSERT_TRUE(ve.ok());
  EXPECT_EQ(ve->entry.value, "a1");
  ASSERT_TRUE(VerifyGet(*ve, "a", 1, &st));
  EXPECT_EQ(st.tx, 3u);
  // A changed value does not verify.
  ve->entry.value = "a9";
  ClientState copy = st;
  EXPECT_FALSE(VerifyGet(*ve, "a", 1, &copy));
}

TEST_F(DatabaseVerifiableTest, ReferencesVerifyAsTheReferenceEntry) {
  MustSet("target", "t1");
  ClientState st;
  ReferenceRequest unbound{"ref", "target", 0, false, false};
  auto vt = db_->VerifiableSetReference(unbound, 0);
  ASSERT_TRUE(vt.ok()) << vt.status().ToString();
  ASSERT_TRUE(VerifyWrite(*vt, EncodeKey("ref"), EncodeReferenceValue("target", 0), &st));
  ReferenceRequest bound{"bref", "target", 1, true, false};
  vt = db_->VerifiableSetReference(bound, st.tx);
  ASSERT_TRUE(vt.ok()) << vt.status().ToString();
  ASSERT_TRUE(VerifyWrite(*vt, EncodeKey("bref"), EncodeReferenceValue("target", 1), &st));
  MustSet("target", "t2");

  auto ve = db_->VerifiableGet(KeyRequest{"ref"}, st.tx);
  ASSERT_TRUE(ve.ok()) << ve.status().ToString();
  EXPECT_EQ(ve->entry.key, "target");
  EXPECT_EQ(ve->entry.value, "t2");
  ASSERT_TRUE(ve->entry.referenced_by);
  EXPECT_EQ(ve->entry.referenced_by->key, "ref");
  EXPECT_TRUE(VerifyGet(*ve, "ref", 0, &st));

  ve = db_->VerifiableGet(KeyRequest{"bref"}, st.tx);
  ASSERT_TRUE(ve.ok());
  EXPECT_EQ(ve->entry.value, "t1");
  EXPECT_EQ(ve->entry.referenced_by->at_tx, 1u);
  EXPECT_TRUE(VerifyGet(*ve, "bref", 0, &st));
}

TEST_F(DatabaseVerifiableTest, ZAddVerifiesTheSortedSetKey) {
  MustSet("m", "v");
  ClientState st;
  for (double score : {1.5, -2.0, 0.0}) {
    auto vt = db_->VerifiableZAdd(ZAddRequest{"set", score, "m", 0, false, false}, st.tx);
    ASSERT_TRUE(vt.ok()) << vt.status().ToString();
    ASSERT_TRUE(VerifyWrite(*vt, EncodeZAddKey("set", score, "m", 0), "", &st));
  }
  auto vt = db_->VerifiableZAdd(ZAddRequest{"set", 7, "m", 1, true, false}, st.tx);
  ASSERT_TRUE(vt.ok());
  EXPECT_TRUE(VerifyWrite(*vt, EncodeZAddKey("set", 7, "m", 1), "", &st));
}

TEST_F(DatabaseVerifiableTest, TxByIdProvesBothDirections) {
  for (int i = 0; i < 6; i++) MustSet("k", std::to_string(i));
  const StoreState now = db_->CurrentState();
  for (uint64_t tx = 1; tx <= now.tx_id; tx++) {
    for (uint64_t since = 0; since <= now.tx_id; since++) {
      auto vt = db_->VerifiableTxById(tx, since);
      ASSERT_TRUE(vt.ok()) << vt.status().ToString();
      const DualProof& dp = vt->dual_proof;
      const Hash tx_alh = *vt->tx.header.Alh();
      auto since_alh = since > 0 ? *db_->TxById(since)->header.Alh() : tx_alh;
      const uint64_t s = since > 0 ? since : tx;
      if (s <= tx) {
        EXPECT_TRUE(verify::VerifyDualProof(dp, s, tx, since_alh, tx_alh)) << tx << " " << since;
      } else {
        EXPECT_TRUE(verify::VerifyDualProof(dp, tx, s, tx_alh, since_alh)) << tx << " " << since;
      }
    }
  }
}

TEST_F(DatabaseVerifiableTest, ProveSinceTxPastLastIsRejectedAndWritesNothing) {
  MustSet("a", "1");
  auto r = db_->VerifiableSet({KeyValue{"b", "2", {}}}, false, 5);
  EXPECT_TRUE(r.status().IsInvalidArgument());
  EXPECT_EQ(r.status().message(), "illegal state");
  EXPECT_TRUE(db_->VerifiableZAdd(ZAddRequest{"s", 1, "a"}, 5).status().IsInvalidArgument());
  EXPECT_TRUE(
      db_->VerifiableSetReference(ReferenceRequest{"r", "a"}, 5).status().IsInvalidArgument());
  EXPECT_TRUE(db_->VerifiableGet(KeyRequest{"a"}, 5).status().IsInvalidArgument());
  EXPECT_TRUE(db_->VerifiableTxById(1, 5).status().IsInvalidArgument());
  EXPECT_EQ(db_->CurrentState().tx_id, 1u);
}

// With a phase sink installed on the thread, a VerifiableGet adds time to
// each of its parts; without one, nothing is recorded.
TEST_F(DatabaseVerifiableTest, PhaseTimersSeeEachPartOfAVerifiableGet) {
  MustSet("a", "a1");
  for (int i = 0; i < 5; i++) MustSet("k" + std::to_string(i), "v");
  const uint64_t last = db_->CurrentState().tx_id;
  OpPhaseTimes times;
  OpPhaseTimes* old = SetOpPhaseSink(&times);
  EXPECT_EQ(old, nullptr);
  auto ve = db_->VerifiableGet(KeyRequest{"a"}, last);
  EXPECT_EQ(SetOpPhaseSink(old), &times);
  ASSERT_TRUE(ve.ok()) << ve.status().ToString();
  // Tx 2 (key "a") lies below the target's BlTx: the AHT proof has terms.
  ASSERT_FALSE(ve->verifiable_tx.dual_proof.inclusion_proof.empty());
  // The value is read with the tx (Store::ReadTxAndValue): its time is the
  // tx's.
  for (OpPhase p : {OpPhase::kIndex, OpPhase::kTx, OpPhase::kTxHeader, OpPhase::kAhtProof,
                    OpPhase::kLinearProof, OpPhase::kInclusion}) {
    EXPECT_GT(times.ns[static_cast<int>(p)], 0u) << kOpPhaseNames[static_cast<int>(p)];
  }
  EXPECT_EQ(times.ns[static_cast<int>(OpPhase::kValue)], 0u);
  const OpPhaseTimes before = times;
  ASSERT_TRUE(db_->VerifiableGet(KeyRequest{"a"}, last).ok());
  for (int p = 0; p < static_cast<int>(OpPhase::kCount); p++) {
    EXPECT_EQ(times.ns[p], before.ns[p]) << kOpPhaseNames[p];
  }
}

}  // namespace
}  // namespace immudb
