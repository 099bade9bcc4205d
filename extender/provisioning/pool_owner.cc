#include "extender/provisioning/pool_owner.h"

#include <algorithm>
#include <map>

#include "common/kube/resource.h"
#include "extender/provisioning/pool_spec.h"

namespace tpustack::provisioning {
namespace {

using nlohmann::json;

// Tolerates any shape: an object that is not what its kind promises is simply not finished.
bool condition_true(const json& object, const char* type) {
  const auto status = object.find("status");
  if (status == object.end() || !status->is_object()) return false;
  const auto conditions = status->find("conditions");
  if (conditions == status->end() || !conditions->is_array()) return false;
  return std::any_of(conditions->begin(), conditions->end(), [&](const json& condition) {
    const auto kind = condition.find("type"), value = condition.find("status");
    return kind != condition.end() && *kind == type && value != condition.end() && *value == "True";
  });
}

}  // namespace

std::string owner_key(OwnerKind kind, const std::string& ns, const std::string& name) {
  return to_string(kind) + "/" + ns + "/" + name;
}

OwnerState owner_state(OwnerKind kind, const json& owner) {
  const bool finished = kind == OwnerKind::kJobSet
                            ? condition_true(owner, "Completed") || condition_true(owner, "Failed")
                            : condition_true(owner, "Complete") || condition_true(owner, "Failed");
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
