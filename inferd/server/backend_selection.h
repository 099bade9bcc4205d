#pragma once

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

// What --backend (INFERD_BACKEND) asks for: auto, cpu or pjrt; GOMLX_BACKEND's xla:tpu, xla:cuda and xla:cpu (and
// the older tpu, cuda) ask for pjrt on that platform.
struct BackendRequest {
  enum class Kind { automatic, cpu, pjrt };
  Kind kind = Kind::automatic;
  std::string platform;  // pjrt on this PJRT platform only ("tpu", "cuda", "cpu"); empty: any
  std::string value;     // as given, for messages
};

Result<BackendRequest> parse_backend_request(const std::string& value);

// What loading the PJRT plugin found: the client's platform and its addressable devices.
struct PluginProbe {
  std::string library;
  std::string platform;  // "tpu", "cuda", "cpu"
  size_t devices = 0;
  std::string device_kind;  // the first device's, e.g. "TPU v5 lite"
};

struct BackendChoice {
  std::string backend;  // "cpu" or "pjrt"
  std::string reason;   // one line for the start-up log
};

// `probe` is what loading the plugin gave (an Error when none was found or it did not load; unused for cpu). auto
// takes pjrt when a plugin loaded and shows a device, else cpu saying why (naming the accelerator the environment
// shows, if any); an explicit pjrt choice that cannot work is an error that says what is missing.
Result<BackendChoice> choose_backend(const BackendRequest& request, const Result<PluginProbe>& probe,
                                     const DeviceEnvironment& environment);

// This process's place in a multi-host TPU slice.
struct WorkerRole {
  int worker_id = 0;
  size_t workers = 1;
  std::string role;  // "single", "leader" (worker 0 of several) or "follower"
};

Result<WorkerRole> worker_role(const DeviceEnvironment& environment);

}  // namespace tpustack::inferd::server
