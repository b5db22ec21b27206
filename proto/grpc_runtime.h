// Process-wide settings of the gRPC runtime, applied once at the start of
// main() by every binary that serves or calls gRPC.
#pragma once

namespace immudb::rpc {

// Turns off Abseil's mutex deadlock detection. Debian builds Abseil without
// NDEBUG, which leaves the detection on: every lock of a gRPC-internal mutex
// then records lock-order edges in a global graph (a few percent of the CPU of
// a busy server or client), a cost release builds of Abseil do not have.
void TuneGrpcRuntime();

}  // namespace immudb::rpc
