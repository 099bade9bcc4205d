#include "inferd/server/backend_selection.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <string>

namespace tpustack::inferd::server {

namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

size_t count_list(const std::string& list) {
  if (list.empty()) return 0;
  size_t items = 1;
  for (char c : list) items += c == ',';
  return items;
}

}  // namespace

DeviceEnvironment read_device_environment() {
  return {env("TPU_ACCELERATOR_TYPE"), env("TPU_VISIBLE_CHIPS"), env("CUDA_VISIBLE_DEVICES"), env("TPU_WORKER_ID"),
          env("TPU_WORKER_HOSTNAMES")};
}

Result<BackendRequest> parse_backend_request(const std::string& value) {
  using Kind = BackendRequest::Kind;
  if (value == "auto") return BackendRequest{Kind::automatic, "", value};
  if (value == "cpu") return BackendRequest{Kind::cpu, "", value};
  if (value == "pjrt") return BackendRequest{Kind::pjrt, "", value};
  for (const char* platform : {"tpu", "cuda", "cpu"}) {
    if (value == std::string("xla:") + platform) return BackendRequest{Kind::pjrt, platform, value};
  }
  if (value == "tpu" || value == "cuda") return BackendRequest{Kind::pjrt, value, value};
  return Error{"--backend must be auto, cpu, pjrt, xla:tpu, xla:cuda or xla:cpu, not \"" + value + "\""};
}

Result<BackendChoice> choose_backend(const BackendRequest& request, const Result<PluginProbe>& probe,
                                     const DeviceEnvironment& environment) {
  if (request.kind == BackendRequest::Kind::cpu) return BackendChoice{"cpu", "--backend cpu"};
  std::string visible;
  if (!environment.tpu_accelerator_type.empty() || !environment.tpu_visible_chips.empty()) {
    visible = "TPU " + (environment.tpu_accelerator_type.empty() ? "chips " + environment.tpu_visible_chips
                                                                 : environment.tpu_accelerator_type);
  } else if (!environment.cuda_visible_devices.empty() && environment.cuda_visible_devices != "-1") {
    visible = "GPU " + environment.cuda_visible_devices;
  }
  std::string missing;
  if (!probe) {
    missing = probe.error().message;
  } else if (probe->devices == 0) {
    missing = "the PJRT plugin " + probe->library + " shows no device";
  } else if (!request.platform.empty() && probe->platform != request.platform) {
    missing = "the PJRT plugin " + probe->library + " runs on " + probe->platform + ", not " + request.platform;
  }
  if (missing.empty()) {
    const std::string how = request.kind == BackendRequest::Kind::automatic ? "auto" : "--backend " + request.value;
    return BackendChoice{"pjrt", how + ": PJRT plugin " + probe->library + " (" + probe->platform + "), " +
                                     std::to_string(probe->devices) + " x " + probe->device_kind};
  }
  if (request.kind == BackendRequest::Kind::pjrt) return Error{"--backend " + request.value + ": " + missing};
  if (visible.empty()) return BackendChoice{"cpu", "auto: no accelerator in the environment (" + missing + ")"};
  return BackendChoice{"cpu", "auto: " + visible + " is visible but " + missing + "; running on cpu"};
}

Result<WorkerRole> worker_role(const DeviceEnvironment& environment) {
  WorkerRole role;
  role.workers = std::max<size_t>(count_list(environment.tpu_worker_hostnames), 1);
  if (!environment.tpu_worker_id.empty()) {
    const std::string& id = environment.tpu_worker_id;
    const auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), role.worker_id);
    if (ec != std::errc() || end != id.data() + id.size() || role.worker_id < 0) {
      return Error{"TPU_WORKER_ID is \"" + id + "\", not a worker number"};
    }
    if (static_cast<size_t>(role.worker_id) >= role.workers) {
      return Error{"TPU_WORKER_ID " + environment.tpu_worker_id + " is outside TPU_WORKER_HOSTNAMES (" +
                   std::to_string(role.workers) + " hosts)"};
    }
  }
  role.role = role.workers == 1 ? "single" : role.worker_id == 0 ? "leader" : "follower";
  return role;
}

}  // namespace tpustack::inferd::server
