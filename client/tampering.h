// Tampering: the error a verifying client reports when a server's reply does
// not prove what it claims (a proof that fails, a state that is not an
// extension of the trusted one, a changed server identity, a wrong signature
// or a server state behind the trusted one).
//
// A tampering error is a Status with code kDataLoss and a message that starts
// with "tampering detected: ". The client uses kDataLoss for nothing else:
// server errors that arrive as gRPC DATA_LOSS become kInternal. Callers must
// never treat a tampering error as a reason to start over with fresh state.
#pragma once

#include <string>
#include <string_view>

#include "immudb/result.h"
#include "immudb/status.h"

namespace immudb::client {

inline constexpr std::string_view kTamperingPrefix = "tampering detected: ";

// Status(kDataLoss, "tampering detected: <reason>").
Status Tampering(std::string_view reason);

// True for a Status made by Tampering().
bool IsTampering(const Status& status);

// `r` as it is, or, when it is an error (a malformed reply, which is as bad
// as a wrong proof), tampering "malformed <what>: <its message>".
template <class T>
Result<T> Checked(Result<T> r, const char* what) {
  if (!r.ok()) return Tampering(std::string("malformed ") + what + ": " + r.status().message());
  return r;
}

}  // namespace immudb::client
