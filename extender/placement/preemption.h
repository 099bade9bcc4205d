#pragma once

#include <map>
#include <string>
#include <vector>

#include "extender/model/cluster_state.h"
#include "extender/model/tpu_pod.h"

namespace tpustack::extender {

// node → UIDs of the pods kube-scheduler proposes to evict there.
using VictimsByNode = std::map<std::string, std::vector<std::string>>;

// Keeps the nodes where, once their victims are gone, the pod would pass filter. A leader therefore
// keeps a node only when evicting the victims frees its whole slice; evicting part of a group does
// not free its slice while other members remain.
VictimsByNode select_preemption(const ClusterState& state, const TpuPod& pod, const VictimsByNode& candidates);

}  // namespace tpustack::extender
