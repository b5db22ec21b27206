// Conversions between engine types (immudb/database.h, tx.h, proof.h) and the
// protobuf messages of schema.proto, following proofs.md §9: empty metadata
// is omitted, TxEntry uses today's layout (vLen = 3), headers carry the
// version of their tx, and every DualProof has both headers and the linear
// proof. Pure functions; thread-safe.
#pragma once

#include "immudb/database.h"
#include "immudb/proof.h"
#include "immudb/result.h"
#include "immudb/tx.h"
#include "kv_metadata_convert.h"
#include "schema.pb.h"

namespace immudb::server {

// ---- engine -> proto ----
void ToProto(const TxHeader& h, schema::TxHeader* out);
void ToProto(const TxEntry& e, schema::TxEntry* out);
void ToProto(const Tx& tx, schema::Tx* out);
void ToProto(const InclusionProof& p, schema::InclusionProof* out);
void ToProto(const DualProof& p, schema::DualProof* out);
void ToProto(const Entry& e, schema::Entry* out);
void ToProto(const ZEntry& e, schema::ZEntry* out);
void ToProto(const VerifiableTx& v, schema::VerifiableTx* out);
void ToProto(const VerifiableEntry& v, schema::VerifiableEntry* out);
// Sets *out only when md has attributes (callers pass mutable_metadata()
// lazily through this helper).
template <class M>
void MaybeSetMetadata(const KVMetadata& md, M* msg);
using proto_convert::ToProto;  // KVMetadata

// ---- proto -> engine (requests, and replies for client-side checks) ----
using proto_convert::FromProto;  // KVMetadata
KeyValue FromProto(const schema::KeyValue& kv);
KeyRequest FromProto(const schema::KeyRequest& r);
ReferenceRequest FromProto(const schema::ReferenceRequest& r);
ZAddRequest FromProto(const schema::ZAddRequest& r);
// InvalidArgument "invalid precondition: null" for a precondition with no kind
// set; the rest (empty key, tx 0, key length) is checked by the database.
Result<Precondition> FromProto(const schema::Precondition& p);
Result<std::vector<Precondition>> FromProto(
    const google::protobuf::RepeatedPtrField<schema::Precondition>& ps);
// InvalidArgument when a hash field is not 32 bytes or a count is negative.
Result<TxHeader> FromProto(const schema::TxHeader& h);
Result<InclusionProof> FromProto(const schema::InclusionProof& p);
Result<DualProof> FromProto(const schema::DualProof& p);
Result<TxEntry> FromProto(const schema::TxEntry& e);

template <class M>
void MaybeSetMetadata(const KVMetadata& md, M* msg) {
  if (!md.empty()) ToProto(md, msg->mutable_metadata());
}

}  // namespace immudb::server
