#include "extender/placement/bind_decision.h"

#include "extender/placement/node_judge.h"

namespace tpustack::extender {

std::vector<std::string> worker_hostnames(const TpuPod& pod, const std::vector<std::string>& worker_nodes) {
  std::string suffix = pod.group ? "-" + std::to_string(pod.group->index) : "";
  bool by_dns = !pod.host_network && !pod.subdomain.empty() && !suffix.empty() && pod.hostname.size() > suffix.size() &&
                pod.hostname.ends_with(suffix);
  if (!by_dns) return worker_nodes;
  std::string base = pod.hostname.substr(0, pod.hostname.size() - suffix.size());
  std::vector<std::string> names;
  for (std::size_t i = 0; i < worker_nodes.size(); ++i) {
    names.push_back(base + "-" + std::to_string(i) + "." + pod.subdomain);
  }
  return names;
}

Result<Placement> decide_bind(const PodRequest& request, const SliceIndex& index, const std::string& node) {
  NodeJudge judge(request, index);
  auto judgement = judge.judge(node);
  if (judgement.fit != Fit::kFits) {
    return Error{"cannot bind " + request.pod.key() + " to " + node + ": " + *judgement.reason};
  }
  Placement placement;
  auto where = index.locate(node);
  if (where.slice < 0) return placement;  // unmanaged pod: nothing to record
  const Slice& slice = index.slices()[where.slice];
  placement.slice = slice.name;
  if (request.role != PodRole::kGroupMember) return placement;

  int worker = request.pod.group->index;
  placement.worker_id = worker;
  const GroupState* group = request.group;
  if (group && group->slice >= 0) {
    placement.worker_hostnames =
        group->worker_hostnames.empty() ? worker_hostnames(request.pod, group->worker_nodes) : group->worker_hostnames;
    return placement;
  }
  // No reservation (the extender restarted between filter and bind): the node is host `worker` of a free
  // slice, and worker i runs on host i.
  placement.worker_hostnames = worker_hostnames(request.pod, assign_workers(slice, {}));
  return placement;
}

Result<Placement> assume_bind(ClusterState& state, const TpuPod& pod, const std::string& node) {
  auto placement = decide_bind(analyze_pod(pod, state.index()), state.index(), node);
  if (placement) {
    std::optional<Placement> recorded;
    if (!placement->slice.empty()) recorded = *placement;
    state.assume_bound(pod.key(), node, std::move(recorded));
  }
  return placement;
}

}  // namespace tpustack::extender
