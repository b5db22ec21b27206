#include "client/tampering.h"

#include <string>

namespace immudb::client {

Status Tampering(std::string_view reason) {
  std::string msg(kTamperingPrefix);
  msg.append(reason);
  return Status(StatusCode::kDataLoss, msg);
}

bool IsTampering(const Status& status) {
  return status.code() == StatusCode::kDataLoss && status.message().starts_with(kTamperingPrefix);
}

}  // namespace immudb::client
