#include "grpc_runtime.h"

#include <absl/synchronization/mutex.h>

namespace immudb::rpc {

void TuneGrpcRuntime() { absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore); }

}  // namespace immudb::rpc
