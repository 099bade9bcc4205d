#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

// What tpu-extender's admission webhook adds to a TPU pod so that a stock JobSet or Indexed Job runs as GKE's
// own webhook would make it run: our scheduler, the TPU toleration, and the worker and multislice environment.
// Pure: a pod in, JSON Patch operations out.
namespace tpustack::admission {

struct PodMutationSettings {
  std::string scheduler_name = "tpu-scheduler";
};

struct PodMutation {
  nlohmann::json patch = nlohmann::json::array();  // RFC 6902 operations; empty when nothing is missing
  std::vector<std::string> added;                  // for the log: "schedulerName", "toleration", "TPU_WORKER_ID"
};

// The operations that complete `pod` (a core/v1 Pod as admission sees it: generateName, possibly no name yet)
// in namespace `ns`. Only pods with a container requesting google.com/tpu are touched; nothing the pod already
// sets is overridden, so the result on an already completed pod is empty (reinvocation). A pod whose TPU request
// the extender cannot read gets no worker variables, never an error.
PodMutation mutate_pod(const nlohmann::json& pod, const std::string& ns, const PodMutationSettings& settings);

}  // namespace tpustack::admission
