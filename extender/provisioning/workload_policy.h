#pragma once

#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace tpustack::provisioning {

// tpu7x multi-host pools name a workload policy: a Compute Engine resource policy in the cluster's region
// with workloadPolicy {type HIGH_THROUGHPUT, acceleratorTopology <topology>}. GKE does not create it.
struct WorkloadPolicyRef {
  std::string project;
  std::string region;
  std::string name;
  std::string topology;
};

// The gcloud line that creates the policy, for messages to the operator.
std::string create_command(const WorkloadPolicyRef& ref);

// Why `policy` (GET .../resourcePolicies/NAME, null when GCE answered 404) cannot serve a pool of
// ref.topology, with the command that fixes it; nullopt when it can.
std::optional<std::string> workload_policy_problem(const WorkloadPolicyRef& ref, const nlohmann::json& policy);

// Name → accelerator topology of the HIGH_THROUGHPUT workload policies in a resourcePolicies list whose
// name starts with `prefix`.
std::map<std::string, std::string> workload_policies(const nlohmann::json& list, const std::string& prefix);

}  // namespace tpustack::provisioning
