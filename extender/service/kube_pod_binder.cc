#include "extender/service/kube_pod_binder.h"

namespace tpustack::extender {

Result<void> KubePodBinder::bind(const std::string& ns, const std::string& pod, const std::string& uid,
                                 const std::string& node, const StringMap& annotations) {
  if (!annotations.empty()) {
    nlohmann::json patch = {{"metadata", {{"annotations", annotations}}}};
    // The uid precondition keeps a placement from landing on a pod recreated under the same name.
    if (!uid.empty()) patch["metadata"]["uid"] = uid;
    if (auto patched = client_.patch(kube::resources::kPods, ns, pod, patch, kube::PatchType::kMerge); !patched) {
      return patched.error();
    }
  }
  auto bound = client_.bind_pod(ns, pod, node);
  if (bound || !kube::conflict(bound.error())) return bound;
  // Already bound: success when to this node (a retry whose first try went through).
  auto current = client_.get(kube::resources::kPods, ns, pod);
  if (!current || current->value("spec", nlohmann::json::object()).value("nodeName", "") != node) return bound;
  return {};
}

}  // namespace tpustack::extender
