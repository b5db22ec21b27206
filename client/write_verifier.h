// Checks of the replies to verified one-entry writes other than Set:
// VerifiableSetReference (proofs.md §7.4) and VerifiableZAdd (§7.5). Pure
// functions: no I/O, thread-safe.
//
// Each checks that the reply's tx holds exactly one entry, that this entry is
// the stored form (proofs.md §1.1) of what was asked for, with no metadata,
// that the entries hash to the dual proof's target Eh and that the target
// extends `trusted` (skipped when trusted.tx_id is 0, as in verifier.h). It
// returns the proven state or a tampering error (tampering.h).
#pragma once

#include <string_view>

#include "client/types.h"
#include "immudb/result.h"
#include "schema.pb.h"

namespace immudb::client {

// `key` now refers to `referenced_key` (at tx `at_tx`, 0 = unbound).
Result<State> VerifyReferenceReply(const schema::VerifiableTx& reply, std::string_view key,
                                   std::string_view referenced_key, uint64_t at_tx,
                                   const State& trusted);

// `key` is now a member of sorted set `set` with `score` (bound to `at_tx`).
Result<State> VerifyZAddReply(const schema::VerifiableTx& reply, std::string_view set, double score,
                              std::string_view key, uint64_t at_tx, const State& trusted);

}  // namespace immudb::client
