#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/fakes/fake_api_store.h"

namespace tpustack::e2e {

// The secondary kube-scheduler (`schedulerName: tpu-scheduler`) with tpu-extender as its extender, as far
// as the story needs it: for each pending pod its own predicates (nodeSelector, taints, Ready, allocatable
// google.com/tpu), then POST /filter and /prioritize in the nodeCacheCapable form, the best node, POST /bind.
// A pod no node takes gets PodScheduled=False reason Unschedulable on its status, as kube-scheduler
// writes it; that is what the provisioner waits for.
class SchedulerDriver {
 public:
  using Narrate = std::function<void(const std::string&)>;
  SchedulerDriver(fakes::FakeApiStore& store, std::string extender_url, Narrate narrate);

  // One pass over the pending pods, in queue order (creation order; a group's leader first), onto `nodes`:
  // the Nodes whose kubelet runs, as kube-scheduler only sees nodes whose status a kubelet keeps.
  void schedule_pending(const std::vector<nlohmann::json>& nodes);
  // Why each pod was last found unschedulable: the message written on its PodScheduled condition.
  const std::map<std::string, std::string>& unschedulable() const { return unschedulable_; }

 private:
  // Empty when `node` passes kube-scheduler's own predicates for `pod`; else why not.
  std::string predicate_failure(const nlohmann::json& pod, const nlohmann::json& node,
                                const std::vector<nlohmann::json>& pods) const;
  void schedule(const nlohmann::json& pod, const std::vector<nlohmann::json>& nodes,
                const std::vector<nlohmann::json>& pods);
  void mark_unschedulable(const nlohmann::json& pod, const std::string& message);

  fakes::FakeApiStore& store_;
  std::string extender_url_;
  Narrate narrate_;
  std::map<std::string, std::string> unschedulable_;
};

// The google.com/tpu a pod asks for (the sum over its containers' requests).
int tpu_request(const nlohmann::json& pod);

}  // namespace tpustack::e2e
