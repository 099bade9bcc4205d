#pragma once

#include <string_view>

#include "common/result/result.h"

namespace tpustack {

// The HTTP status of `error`'s peer answer (0 where it has none, or there was no answer).
inline int peer_status(const Error& error) { return error.peer ? error.peer->http_status : 0; }

// The machine-readable reason of `error`'s peer answer ("" where it has none).
inline std::string_view peer_reason(const Error& error) {
  return error.peer ? std::string_view(error.peer->reason) : std::string_view();
}

}  // namespace tpustack
