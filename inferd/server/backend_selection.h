#pragma once

#include <set>
#include <string>

#include "common/result/result.h"

namespace tpustack::inferd::server {

// What the device plugin put in the container's environment.
struct DeviceEnvironment {
  std::string tpu_accelerator_type;  // TPU_ACCELERATOR_TYPE, e.g. "v5litepod-4"
  std::string tpu_visible_chips;     // TPU_VISIBLE_CHIPS, e.g. "0,1,2,3"
  std::string cuda_visible_devices;  // CUDA_VISIBLE_DEVICES
  std::string tpu_worker_id;         // TPU_WORKER_ID
  std::string tpu_worker_hostnames;  // TPU_WORKER_HOSTNAMES, comma-separated
};

DeviceEnvironment read_device_environment();

// The backends compiled into this binary.
std::set<std::string> built_backends();

struct BackendChoice {
  std::string backend;  // "cpu", "cuda" or "tpu"
  std::string reason;   // one line for the start-up log
};

// `requested` is auto, cpu, cuda or tpu. auto prefers an accelerator the environment shows and the build has, and
// falls back to cpu saying why; an explicit choice that cannot work is an error that says what is missing.
Result<BackendChoice> select_backend(const std::string& requested, const DeviceEnvironment& environment,
                                     const std::set<std::string>& built);

// This process's place in a multi-host TPU slice.
struct WorkerRole {
  int worker_id = 0;
  size_t workers = 1;
  std::string role;  // "single", "leader" (worker 0 of several) or "follower"
};

Result<WorkerRole> worker_role(const DeviceEnvironment& environment);

}  // namespace tpustack::inferd::server
