#pragma once

#include <string>

#include "common/result/result.h"
#include "extender/model/pod_group.h"

namespace tpustack::extender {

// Records a placement on a pod and binds it; the only write the extender makes to the cluster.
class PodBinder {
 public:
  virtual ~PodBinder() = default;
  // Writes `annotations` on the pod, then creates its Binding to `node`. Idempotent: a pod already
  // bound to `node` is success. A failure's message is for the scheduler's log.
  virtual Result<void> bind(const std::string& ns, const std::string& pod, const std::string& uid,
                            const std::string& node, const StringMap& annotations) = 0;
};

}  // namespace tpustack::extender
