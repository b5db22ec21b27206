// Conversions between the protobuf messages of schema.proto and the engine's
// types (immudb/tx.h, immudb/proof.h) and the client's types (types.h). The
// only place in the client that reads proto fields of proofs and headers.
//
// Replies come from a server the client does not trust: every conversion that
// can meet malformed input (a hash that is not 32 bytes, a negative count, a
// version beyond 16 bits) returns InvalidArgument instead of guessing. Pure
// functions; thread-safe.
#pragma once

#include "client/types.h"
#include "immudb/proof.h"
#include "immudb/result.h"
#include "immudb/tx.h"
#include "kv_metadata_convert.h"
#include "schema.pb.h"

namespace immudb::client {

// ---- proto -> engine / client ----
Result<Hash> HashFromBytes(const std::string& bytes);
using proto_convert::FromProto;  // KVMetadata
Result<TxHeader> FromProto(const schema::TxHeader& h);
Result<TxEntry> FromProto(const schema::TxEntry& e);
// The header and the raw entries (kvEntries/zEntries are not converted).
Result<Tx> FromProto(const schema::Tx& tx);
Result<InclusionProof> FromProto(const schema::InclusionProof& p);
Result<DualProof> FromProto(const schema::DualProof& p);
Entry FromProto(const schema::Entry& e);
Result<State> FromProto(const schema::ImmutableState& s);

// ---- client -> proto (requests) ----
using proto_convert::ToProto;  // KVMetadata
void ToProto(const ReadOptions& opts, schema::KeyRequest* out);

inline std::string HashBytes(const Hash& h) {
  return std::string(reinterpret_cast<const char*>(h.data()), h.size());
}

}  // namespace immudb::client
