// KVMetadata (immudb/tx.h) to and from schema.proto's KVMetadata message: the
// one conversion the client and the server share unchanged. Header-only; pure
// functions.
#pragma once

#include "immudb/tx.h"
#include "schema.pb.h"

namespace immudb::proto_convert {

inline void ToProto(const KVMetadata& md, schema::KVMetadata* out) {
  out->set_deleted(md.deleted);
  if (md.expires_at) out->mutable_expiration()->set_expiresat(*md.expires_at);
  out->set_nonindexable(md.non_indexable);
}

inline KVMetadata FromProto(const schema::KVMetadata& md) {
  KVMetadata out;
  out.deleted = md.deleted();
  if (md.has_expiration()) out.expires_at = md.expiration().expiresat();
  out.non_indexable = md.nonindexable();
  return out;
}

}  // namespace immudb::proto_convert
