#include "inferd/server/backend_selection.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>

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

std::set<std::string> built_backends() { return {"cpu"}; }

Result<BackendChoice> select_backend(const std::string& requested, const DeviceEnvironment& environment,
                                     const std::set<std::string>& built) {
  const bool tpu_visible = !environment.tpu_accelerator_type.empty() || !environment.tpu_visible_chips.empty();
  const bool cuda_visible = !environment.cuda_visible_devices.empty() && environment.cuda_visible_devices != "-1";
  if (requested == "cpu") return BackendChoice{"cpu", "--backend cpu"};
  if (requested == "tpu" || requested == "cuda") {
    if (!built.contains(requested)) {
      return Error{"--backend " + requested + ": this inferd was built without the " + requested +
                   " backend (it has: cpu); use --backend cpu or auto"};
    }
    if (requested == "tpu" && !tpu_visible) {
      return Error{
          "--backend tpu: no TPU in this container (TPU_ACCELERATOR_TYPE and TPU_VISIBLE_CHIPS are unset; "
          "request google.com/tpu so the device plugin sets them)"};
    }
    if (requested == "cuda" && !cuda_visible) return Error{"--backend cuda: CUDA_VISIBLE_DEVICES shows no GPU"};
    return BackendChoice{requested, "--backend " + requested};
  }
  if (requested != "auto") return Error{"--backend must be auto, cpu, cuda or tpu, not \"" + requested + "\""};
  if (tpu_visible) {
    if (built.contains("tpu")) return BackendChoice{"tpu", "auto: TPU " + environment.tpu_accelerator_type};
    return BackendChoice{"cpu", "auto: TPU " + environment.tpu_accelerator_type +
                                    " is visible but this build has no tpu backend; running on cpu"};
  }
  if (cuda_visible) {
    if (built.contains("cuda")) return BackendChoice{"cuda", "auto: CUDA devices " + environment.cuda_visible_devices};
    return BackendChoice{"cpu", "auto: a GPU is visible but this build has no cuda backend; running on cpu"};
  }
  return BackendChoice{"cpu", "auto: no accelerator in the environment"};
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
