#include "extender/placement/preemption.h"

#include <unordered_set>

#include "extender/placement/node_judge.h"
#include "extender/placement/pod_request.h"

namespace tpustack::extender {

VictimsByNode select_preemption(const ClusterState& state, const TpuPod& pod, const VictimsByNode& candidates) {
  VictimsByNode kept;
  for (const auto& [node, victims] : candidates) {
    std::unordered_set<std::string> evicted(victims.begin(), victims.end());
    ClusterState after;
    for (const auto& [name, n] : state.nodes()) after.upsert_node(n);
    for (const auto& [key, p] : state.pods()) {
      if (!evicted.contains(p.uid)) after.upsert_pod(p);
    }
    auto request = analyze_pod(pod, after.index());
    if (NodeJudge(request, after.index()).judge(node).fit == Fit::kFits) kept.emplace(node, victims);
  }
  return kept;
}

}  // namespace tpustack::extender
