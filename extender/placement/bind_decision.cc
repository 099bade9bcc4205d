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

BindDecision decide_bind(const PodRequest& request, const SliceIndex& index, const std::string& node) {
  BindDecision decision;
  NodeJudge judge(request, index);
  auto judgement = judge.judge(node);
  if (judgement.fit != Fit::kFits) {
    decision.error = "cannot bind " + request.pod.key() + " to " + node + ": " + *judgement.reason;
    return decision;
  }
  auto where = index.locate(node);
  if (where.slice < 0) return decision;  // unmanaged pod: nothing to record
  const Slice& slice = index.slices()[where.slice];
  decision.placement.slice = slice.name;
  if (request.role != PodRole::kGroupMember) return decision;

  int worker = request.pod.group->index;
  decision.placement.worker_id = worker;
  const GroupState* group = request.group;
  if (group && group->slice >= 0) {
    decision.placement.worker_hostnames =
        group->worker_hostnames.empty() ? worker_hostnames(request.pod, group->worker_nodes) : group->worker_hostnames;
    return decision;
  }
  // No reservation (the extender restarted between filter and bind): the node is host `worker` of a free
  // slice, and worker i runs on host i.
  decision.placement.worker_hostnames = worker_hostnames(request.pod, assign_workers(slice, {}));
  return decision;
}

BindDecision assume_bind(ClusterState& state, const TpuPod& pod, const std::string& node) {
  auto decision = decide_bind(analyze_pod(pod, state.index()), state.index(), node);
  if (decision.error.empty()) {
    std::optional<Placement> placement;
    if (!decision.placement.slice.empty()) placement = decision.placement;
    state.assume_bound(pod.key(), node, std::move(placement));
  }
  return decision;
}

}  // namespace tpustack::extender
