#include "extender/provisioning/workload_policy.h"

#include <fmt/format.h>

namespace tpustack::provisioning {

std::string create_command(const WorkloadPolicyRef& ref) {
  return fmt::format(
      "gcloud compute resource-policies create workload-policy {} --type=HIGH_THROUGHPUT "
      "--accelerator-topology={} --project={} --region={}",
      ref.name, ref.topology, ref.project, ref.region);
}

std::optional<std::string> workload_policy_problem(const WorkloadPolicyRef& ref, const nlohmann::json& policy) {
  const std::string fix = "; create it with: " + create_command(ref);
  if (!policy.is_object()) {
    return fmt::format("workload policy {} does not exist in {}/{}, and tpu7x {} pools need it{}", ref.name,
                       ref.project, ref.region, ref.topology, fix);
  }
  const nlohmann::json workload = policy.value("workloadPolicy", nlohmann::json::object());
  const std::string type = workload.value("type", "");
  const std::string topology = workload.value("acceleratorTopology", "");
  if (type != "HIGH_THROUGHPUT" || topology != ref.topology) {
    return fmt::format(
        "resource policy {} in {} is not a HIGH_THROUGHPUT workload policy for {} (type '{}', "
        "acceleratorTopology '{}'): delete it, then create it with: {}",
        ref.name, ref.region, ref.topology, type, topology, create_command(ref));
  }
  return std::nullopt;
}

std::map<std::string, std::string> workload_policies(const nlohmann::json& list, const std::string& prefix) {
  std::map<std::string, std::string> out;
  for (const nlohmann::json& policy : list.value("items", nlohmann::json::array())) {
    const std::string name = policy.value("name", "");
    const nlohmann::json workload = policy.value("workloadPolicy", nlohmann::json::object());
    if (name.rfind(prefix, 0) == 0 && workload.value("type", "") == "HIGH_THROUGHPUT") {
      out[name] = workload.value("acceleratorTopology", "");
    }
  }
  return out;
}

}  // namespace tpustack::provisioning
