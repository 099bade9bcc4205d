#pragma once

#include <string>
#include <vector>

#include "extender/model/cluster_state.h"
#include "extender/plan/pool_need.h"

namespace tpustack::extender {

struct PlannedPod {
  std::string pod;
  std::string node;
  Placement placement;
};

struct WaitingPods {
  std::string who;  // the group's name, or the pod's key
  std::vector<std::string> pods;
  std::string reason;
};

struct ClusterPlan {
  std::vector<PlannedPod> placed;
  std::vector<WaitingPods> waiting;
  std::vector<PoolNeed> pools;
};

// Runs the extender's own decisions over a snapshot as kube-scheduler would drive them: each unbound
// TPU pod is filtered against every node, the best-scored node wins and the bind is applied, and this
// repeats while pods keep landing (followers land once their leader has). kube-scheduler's in-tree
// checks (CPU, memory, affinity) are not simulated. Leaves `state` with the planned binds applied.
ClusterPlan plan_cluster(ClusterState& state);

// For people: where each pod goes, which wait and why, which node pools would be needed.
std::string render_plan(const ClusterPlan& plan);

}  // namespace tpustack::extender
