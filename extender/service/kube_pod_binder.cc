#include "extender/service/kube_pod_binder.h"

namespace tpustack::extender {

void KubePodBinder::bind(const std::string& ns, const std::string& pod, const std::string& uid, const std::string& node,
                         const StringMap& annotations) {
  if (!annotations.empty()) {
    nlohmann::json patch = {{"metadata", {{"annotations", annotations}}}};
    // The uid precondition keeps a placement from landing on a pod recreated under the same name.
    if (!uid.empty()) patch["metadata"]["uid"] = uid;
    client_.patch(kube::resources::kPods, ns, pod, patch, kube::PatchType::kMerge);
  }
  try {
    client_.bind_pod(ns, pod, node);
  } catch (const kube::KubeError& e) {
    if (!e.conflict()) throw;
    auto current = client_.get(kube::resources::kPods, ns, pod);
    if (current.value("spec", nlohmann::json::object()).value("nodeName", "") != node) throw;
  }
}

}  // namespace tpustack::extender
