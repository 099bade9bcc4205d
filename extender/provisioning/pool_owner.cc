#include "extender/provisioning/pool_owner.h"

#include <algorithm>
#include <map>

#include "common/kube/resource.h"
#include "extender/provisioning/cluster_facts.h"
#include "extender/provisioning/pool_spec.h"

namespace tpustack::provisioning {

using nlohmann::json;

std::string owner_key(OwnerKind kind, const std::string& ns, const std::string& name) {
  return to_string(kind) + "/" + ns + "/" + name;
}

OwnerState owner_state(OwnerKind kind, const json& owner) {
  const bool finished = kind == OwnerKind::kJobSet
                            ? has_condition(owner, "Completed", "True") || has_condition(owner, "Failed", "True")
                            : has_condition(owner, "Complete", "True") || has_condition(owner, "Failed", "True");
  return finished ? OwnerState::kFinished : OwnerState::kActive;
}

json event_target(const PoolState& pool) {
  static const std::map<std::string, std::string> api_versions = {{"JobSet", kube::resources::kJobSets.api_version()},
                                                                  {"Job", "batch/v1"},
                                                                  {"StatefulSet", "apps/v1"},
                                                                  {"ReplicaSet", "apps/v1"},
                                                                  {"Pod", "v1"}};
  const std::string kind = pool.label(kOwnerKindLabel);
  const std::string ns = pool.label(kGroupNamespaceLabel);
  const std::string name = pool.label(kOwnerNameLabel);
  auto api_version = api_versions.find(kind);
  if (api_version != api_versions.end() && !ns.empty() && !name.empty()) {
    return {{"apiVersion", api_version->second}, {"kind", kind}, {"metadata", {{"namespace", ns}, {"name", name}}}};
  }
  return {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns.empty() ? "default" : ns}}}};
}

}  // namespace tpustack::provisioning
