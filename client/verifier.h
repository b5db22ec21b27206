// Checks of Verifiable* replies against a trusted state, as proofs.md §7
// describes the Go client's steps. Pure functions: no I/O, thread-safe.
//
// Each function returns the state the reply proves (the proof's target, which
// is never behind `trusted`) or a tampering error (tampering.h) naming what
// failed. When trusted.tx_id is 0 (an empty database was trusted) there is
// nothing to be consistent with and, like the Go client, only the parts of the
// reply that do not involve the trusted state are checked. Signatures are not
// checked here (signature.h); the returned state carries the reply's.
#pragma once

#include <string_view>

#include "client/types.h"
#include "immudb/result.h"
#include "schema.pb.h"

namespace immudb::client {

// VerifiableSet of one `key` = `value` (§7.1): the reply's tx has exactly that
// entry, its htree root is the target header's Eh, and the target extends
// `trusted`.
Result<State> VerifySetReply(const schema::VerifiableTx& reply, std::string_view key,
                             std::string_view value, const State& trusted);

// VerifiableGet of `request` (§7.2): the entry (or the reference that led to
// it) is in the tx the proof names, and that tx and `trusted` are on one chain.
Result<State> VerifyGetReply(const schema::VerifiableEntry& reply,
                             const schema::KeyRequest& request, const State& trusted);

// VerifiableTxById of `tx_id` (§7.3): tx `tx_id` and `trusted` are on one
// chain. Beyond the Go client, the reply's tx header must be the proven header
// and, when all entries are present, they must hash to its Eh.
Result<State> VerifyTxReply(const schema::VerifiableTx& reply, uint64_t tx_id,
                            const State& trusted);

}  // namespace immudb::client
