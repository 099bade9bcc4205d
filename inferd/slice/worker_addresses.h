#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result/result.h"

namespace tpustack::inferd::slice {

// The gRPC address of each worker of a slice, worker 0 first, from TPU_WORKER_HOSTNAMES: an entry is `host`, reached
// on `own_port` (a StatefulSet gives every worker the same ports), or `host:port` (`[v6]:port`), which lets a test run
// a slice's workers as processes on one machine.
Result<std::vector<std::string>> worker_addresses(std::string_view hostnames, int own_port);

}  // namespace tpustack::inferd::slice
