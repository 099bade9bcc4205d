#include "extender/placement/node_judge.h"

#include <algorithm>

namespace tpustack::extender {

namespace {

Judgement busy(std::string reason) { return {Fit::kBusy, 0, std::make_shared<const std::string>(std::move(reason))}; }
Judgement never(std::string reason) { return {Fit::kNever, 0, std::make_shared<const std::string>(std::move(reason))}; }

std::optional<std::string> host_problem(const Slice& slice, const SliceHost& host,
                                        const std::vector<Toleration>& tolerations) {
  std::string where = "host " + host.node + " of slice " + slice.name;
  if (!host.ready) return where + " is not Ready";
  if (host.unschedulable) return where + " is cordoned";
  if (const Taint* taint = untolerated_taint(host.taints, tolerations)) {
    return where + " has taint " + taint->key + "=" + taint->value + ":" + taint->effect +
           " that the pod does not tolerate";
  }
  return std::nullopt;
}

}  // namespace

NodeJudge::NodeJudge(const PodRequest& request, const SliceIndex& index)
    : request_(request), index_(index), slice_verdicts_(index.slices().size()), shape_verdicts_(index.shape_count()) {}

Judgement NodeJudge::judge(const std::string& node) {
  if (request_.role == PodRole::kUnmanaged) return {};
  if (request_.problem) return never(*request_.problem);
  if (request_.unit && !request_.unit->whole) {
    if (!unit_wait_) unit_wait_ = busy(request_.unit->waiting);
    return *unit_wait_;
  }
  auto where = index_.locate(node);
  const Slice* slice = where.slice < 0 ? nullptr : &index_.slices()[where.slice];
  bool placed_group = request_.group && request_.group->slice >= 0;
  if (request_.role == PodRole::kGroupMember && placed_group) return judge_group_host(node, slice, where.host);
  if (!slice) return never("node " + node + " is not a TPU node the extender knows");
  if (const auto& known = shape_verdicts_[where.shape]; known && *known) return **known;
  if (request_.role == PodRole::kSingleHost) return judge_single_host(*slice, where.host);

  auto verdict = judge_free_slice(where.slice);
  const int worker = request_.pod.group->index;
  if (verdict.fit != Fit::kFits || where.host == worker) return verdict;
  // Worker i runs on host i: on another host it would shift every worker's host (kube-scheduler weighs other
  // plugins' scores too, so a lower score alone would not keep it off).
  return never("worker " + std::to_string(worker) + " of " + request_.pod.group->name + " goes to host " +
               std::to_string(worker) + " of free slice " + slice->name + ", " + slice->hosts[worker].node);
}

Judgement NodeJudge::judge_free_slice(int slice_index) {
  auto& verdict = slice_verdicts_[slice_index];
  if (!verdict) verdict = judge_whole_slice(slice_index);
  return *verdict;
}

const std::optional<Judgement>& NodeJudge::shape_verdict(const Slice& slice) {
  auto& verdict = shape_verdicts_[slice.shape_id];
  if (!verdict) verdict = shape_mismatch(slice);
  return *verdict;
}

std::optional<Judgement> NodeJudge::shape_mismatch(const Slice& slice) const {
  const TpuPod& pod = request_.pod;
  std::string shape = slice.spec ? describe(slice.accelerator, *slice.spec) : slice.shape();
  if (request_.role == PodRole::kSingleHost) {
    if (!pod.accelerator.empty() && slice.accelerator != pod.accelerator) {
      return never(slice.accelerator + " node; the pod needs " + pod.accelerator);
    }
    if (!request_.spec) return std::nullopt;
    if (!slice.spec) return never(slice.shape() + ": " + slice.shape_problem);
    if (slice.spec->topology() == request_.spec->topology()) return std::nullopt;
    return never(shape + "; the pod needs " + request_.wanted());
  }
  if (!slice.spec) return never(slice.shape() + ": " + slice.shape_problem);
  if (slice.accelerator == pod.accelerator && *slice.spec == *request_.spec) return std::nullopt;
  return never(shape + "; the pod needs " + request_.wanted());
}

Judgement NodeJudge::judge_whole_slice(int slice_index) {
  const Slice& slice = index_.slices()[slice_index];
  if (const auto& mismatch = shape_verdict(slice)) return *mismatch;
  if (!slice.complete()) {
    return busy("slice " + slice.name + " has " + std::to_string(slice.hosts.size()) + " of " +
                std::to_string(slice.expected_hosts()) + " hosts");
  }
  if (!slice.holder.empty()) return busy("slice " + slice.name + " is reserved by " + slice.holder_name);
  if (!slice.created_for.empty() && slice.created_for != request_.pod.group->pool_owner) {
    return busy("slice " + slice.name + " was created for " + slice.created_for);
  }
  if (slice.used_chips > 0) {
    return busy("slice " + slice.name + " is in use: " + std::to_string(slice.used_chips) + " of " +
                std::to_string(slice.spec->chips()) + " chips taken");
  }
  for (const auto& host : slice.hosts) {
    if (auto problem = host_problem(slice, host, request_.pod.tolerations)) return busy(*problem);
  }
  return {Fit::kFits, 10, nullptr};
}

Judgement NodeJudge::judge_group_host(const std::string& node, const Slice* slice, int host) {
  const GroupState* group = request_.group;
  int worker = request_.pod.group->index;
  const Slice& held = index_.slices()[group->slice];
  if (const auto& mismatch = shape_verdict(held)) return *mismatch;
  // Each member's TPU_WORKER_HOSTNAMES names every host: none binds before they all exist (a pool a killed
  // provisioner left half-made is deleted and made again, under any pod bound there).
  if (!held.complete()) {
    return busy("slice " + held.name + " of " + group->name + " has " + std::to_string(held.hosts.size()) + " of " +
                std::to_string(held.expected_hosts()) + " hosts");
  }
  if (worker >= static_cast<int>(group->worker_nodes.size()) || group->worker_nodes[worker].empty()) {
    return busy("slice " + held.name + " of " + group->name + " has no host for worker " + std::to_string(worker));
  }
  const std::string& target = group->worker_nodes[worker];
  if (node != target) {
    if (!elsewhere_) {
      elsewhere_ = never(group->name + " holds slice " + held.name + "; worker " + std::to_string(worker) +
                         " goes to " + target);
    }
    return *elsewhere_;
  }
  const SliceHost& h = slice->hosts[host];
  if (h.free() < request_.pod.chips) {
    return busy("node " + node + " has " + std::to_string(h.free()) + " free chips; worker " + std::to_string(worker) +
                " needs " + std::to_string(request_.pod.chips));
  }
  return {Fit::kFits, 10, nullptr};
}

Judgement NodeJudge::judge_single_host(const Slice& slice, int host) {
  const TpuPod& pod = request_.pod;
  const SliceHost& h = slice.hosts[host];
  if (const auto& mismatch = shape_verdict(slice)) return *mismatch;
  if (!slice.holder.empty()) return busy("slice " + slice.name + " is reserved by " + slice.holder_name);
  if (h.allocatable < pod.chips) {
    return never("node " + h.node + " has " + std::to_string(h.allocatable) + " chips; the pod needs " +
                 std::to_string(pod.chips));
  }
  if (h.free() < pod.chips) {
    return busy("node " + h.node + " has " + std::to_string(h.free()) + " of " + std::to_string(h.allocatable) +
                " chips free; the pod needs " + std::to_string(pod.chips));
  }
  // Fuller hosts first, so whole hosts and whole slices stay free for pods that need them.
  if (slice.multi_host()) return {Fit::kFits, 0, nullptr};
  return {Fit::kFits, std::max(1, 10 * (h.used + pod.chips) / h.allocatable), nullptr};
}

FilterOutcome filter_nodes(const PodRequest& request, const SliceIndex& index, const std::vector<std::string>& nodes) {
  FilterOutcome outcome;
  outcome.unresolvable.reserve(nodes.size());
  NodeJudge judge(request, index);
  for (const auto& node : nodes) {
    auto judgement = judge.judge(node);
    switch (judgement.fit) {
      case Fit::kFits:
        outcome.passed.push_back(node);
        break;
      case Fit::kBusy:
        outcome.failed.emplace_back(node, std::move(judgement.reason));
        break;
      case Fit::kNever:
        outcome.unresolvable.emplace_back(node, std::move(judgement.reason));
        break;
    }
  }
  return outcome;
}

std::vector<HostScore> prioritize_nodes(const PodRequest& request, const SliceIndex& index,
                                        const std::vector<std::string>& nodes) {
  std::vector<HostScore> scores;
  scores.reserve(nodes.size());
  NodeJudge judge(request, index);
  for (const auto& node : nodes) {
    auto judgement = judge.judge(node);
    scores.push_back({node, judgement.fit == Fit::kFits ? judgement.score : 0});
  }
  return scores;
}

}  // namespace tpustack::extender
