#include "extender/plan/cluster_plan.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "extender/placement/bind_decision.h"
#include "extender/placement/node_judge.h"
#include "extender/placement/slice_reservation.h"

namespace tpustack::extender {

namespace {

// The reasons that may change (busy slices, reservations) with their node counts, then how many nodes
// can never fit: "slice a is reserved by Job ml/x (4 nodes); 2 nodes never fit (e.g. node b-0 is ...)".
std::string summarize(const FilterOutcome& outcome) {
  std::map<std::string, int> counts;
  for (const auto& [node, reason] : outcome.failed) ++counts[*reason];
  std::vector<std::pair<std::string, int>> ranked(counts.begin(), counts.end());
  std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  auto nodes = [](std::size_t n) { return std::to_string(n) + (n == 1 ? " node" : " nodes"); };
  std::string text;
  const std::size_t shown = std::min<std::size_t>(ranked.size(), 3);
  for (std::size_t i = 0; i < shown; ++i)
    text += (i ? "; " : "") + ranked[i].first + " (" + nodes(ranked[i].second) + ")";
  if (ranked.size() > shown) text += "; " + std::to_string(ranked.size() - shown) + " other reasons";
  if (!outcome.unresolvable.empty()) {
    text += (text.empty() ? "" : "; ") + nodes(outcome.unresolvable.size()) + " never fit (e.g. " +
            *outcome.unresolvable.front().second + ")";
  }
  return text.empty() ? "the cluster has no nodes" : text;
}

std::vector<std::string> pending_pods(const ClusterState& state) {
  std::vector<const TpuPod*> pods;
  for (const auto& [key, pod] : state.pods()) {
    if (pod.active() && !pod.bound() && pod.chips > 0) pods.push_back(&pod);
  }
  // Leaders before their followers, as their controllers create them.
  std::stable_sort(pods.begin(), pods.end(), [](const TpuPod* a, const TpuPod* b) {
    auto rank = [](const TpuPod* p) {
      return std::make_tuple(p->group ? p->group->key : p->key(), p->group ? p->group->index : 0);
    };
    return rank(a) < rank(b);
  });
  std::vector<std::string> keys;
  for (const auto* pod : pods) keys.push_back(pod->key());
  return keys;
}

}  // namespace

ClusterPlan plan_cluster(ClusterState& state) {
  ClusterPlan plan;
  std::vector<std::string> nodes;
  for (const auto& [name, node] : state.nodes()) nodes.push_back(name);
  auto pending = pending_pods(state);

  for (bool progress = true; progress;) {
    progress = false;
    for (auto it = pending.begin(); it != pending.end();) {
      TpuPod pod = *state.find_pod(*it);
      // Reserving as the extender's filter does: a multislice unit takes its slices all at once or waits.
      auto outcome = filter_reserving(state, pod, nodes, std::chrono::steady_clock::time_point{}).outcome;
      std::vector<std::string> passed(outcome.passed.begin(), outcome.passed.end());
      if (passed.empty()) {
        ++it;
        continue;
      }
      auto request = analyze_pod(pod, state.index());
      auto scores = prioritize_nodes(request, state.index(), passed);
      auto best = std::max_element(scores.begin(), scores.end(),
                                   [](const HostScore& a, const HostScore& b) { return a.score < b.score; });
      auto placement = assume_bind(state, pod, best->host);
      if (!placement) {
        ++it;
        continue;
      }
      plan.placed.push_back({pod.key(), best->host, *placement});
      it = pending.erase(it);
      progress = true;
    }
  }

  std::vector<PodRequest> waiting;
  std::map<std::string, std::size_t> entry_of;
  for (const auto& key : pending) {
    const TpuPod& pod = *state.find_pod(key);
    auto request = analyze_pod(pod, state.index());
    std::string who = !pod.group ? key : pod.group->unit ? pod.group->unit->name : pod.group->name;
    auto [it, added] = entry_of.emplace(who, plan.waiting.size());
    if (added) plan.waiting.push_back({who, {}, ""});
    auto& entry = plan.waiting[it->second];
    entry.pods.push_back(key);
    if (request.unit && !request.unit->whole) {
      entry.reason = request.unit->waiting;  // the whole unit's reason, not its nodes'
    } else if (entry.reason.empty() || (request.role == PodRole::kGroupMember && request.pod.group->leader())) {
      entry.reason = summarize(filter_nodes(request, state.index(), nodes));
    }
    waiting.push_back(std::move(request));
  }
  plan.pools = pools_for(waiting);
  return plan;
}

std::string render_plan(const ClusterPlan& plan) {
  std::string out = "placed (" + std::to_string(plan.placed.size()) + " pods):\n";
  for (const auto& placed : plan.placed) {
    out += "  " + placed.pod + " -> " + placed.node;
    if (!placed.placement.slice.empty()) {
      out += "  slice " + placed.placement.slice;
      if (placed.placement.worker_id >= 0) {
        out += ", worker " + std::to_string(placed.placement.worker_id) + " of " +
               std::to_string(placed.placement.worker_hostnames.size());
      }
    }
    out += "\n";
  }
  out += "waiting (" + std::to_string(plan.waiting.size()) + "):\n";
  for (const auto& waiting : plan.waiting) {
    out += "  " + waiting.who + " (" + std::to_string(waiting.pods.size()) +
           (waiting.pods.size() == 1 ? " pod" : " pods") + "): " + waiting.reason + "\n";
  }
  out += "node pools needed (" + std::to_string(plan.pools.size()) + "):\n";
  for (const auto& pool : plan.pools) out += "  " + pool.describe() + "\n";
  return out;
}

}  // namespace tpustack::extender
