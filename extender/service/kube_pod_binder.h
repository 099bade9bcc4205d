#pragma once

#include "common/kube/kube_client.h"
#include "extender/service/pod_binder.h"

namespace tpustack::extender {

// Binds through the API server: a merge patch of the placement annotations, then pods/NAME/binding.
// Both steps may be repeated safely: the patch is the same, and a 409 on a pod already bound to the
// node counts as done.
class KubePodBinder : public PodBinder {
 public:
  explicit KubePodBinder(kube::KubeClient& client) : client_(client) {}
  Result<void> bind(const std::string& ns, const std::string& pod, const std::string& uid, const std::string& node,
                    const StringMap& annotations) override;

 private:
  kube::KubeClient& client_;
};

}  // namespace tpustack::extender
