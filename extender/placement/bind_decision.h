#pragma once

#include <string>
#include <vector>

#include "common/result/result.h"
#include "extender/model/cluster_state.h"
#include "extender/model/slice_index.h"
#include "extender/placement/pod_request.h"

namespace tpustack::extender {

// What binding a pod to a node means: the placement to record on it (an empty slice for a pod on no slice we
// manage), or the Error saying why the bind must not happen. Checks the node with the same rules as filter (the
// scheduler may bind to a node that has since become busy) and computes the placement record: the slice, and for
// group members the worker id and the workers' hostnames in worker order.
Result<Placement> decide_bind(const PodRequest& request, const SliceIndex& index, const std::string& node);

// decide_bind against the state, and when it may go ahead, counts the pod as bound there at once
// (ClusterState::assume_bound): from a member's bind on, no other group can take its slice, even
// before the API server confirms. `pod` is the pod as the state knows it.
Result<Placement> assume_bind(ClusterState& state, const TpuPod& pod, const std::string& node);

// Hostnames the workers reach each other by, in worker order. Pods with a subdomain (Indexed Jobs and
// JobSets name them "<base>-<index>") get "<base>-<i>.<subdomain>"; host-network pods and pods without
// a subdomain get the node names of their hosts.
std::vector<std::string> worker_hostnames(const TpuPod& pod, const std::vector<std::string>& worker_nodes);

}  // namespace tpustack::extender
