#include "extender/placement/bind_admission.h"

#include <algorithm>

namespace tpustack::extender {

namespace {

std::string joined(const SchedulerNames& names) {
  std::string list;
  for (const auto& name : names) list += (list.empty() ? "" : ", ") + name;
  return list;
}

BindAdmission refused(std::string reason) { return {BindAdmission::Verdict::kRefused, std::move(reason)}; }

}  // namespace

std::optional<std::string> not_ours(const TpuPod& pod, const SchedulerNames& ours) {
  const std::string& scheduler = pod.scheduler_name.empty() ? "default-scheduler" : pod.scheduler_name;
  if (std::find(ours.begin(), ours.end(), scheduler) == ours.end()) {
    return "pod " + pod.key() + " belongs to scheduler " + scheduler + ", not to tpu-extender's (" + joined(ours) + ")";
  }
  if (pod.chips <= 0) return "pod " + pod.key() + " requests no google.com/tpu";
  return std::nullopt;
}

BindAdmission admit_bind(const TpuPod& pod, std::string_view requested_uid, const std::string& node,
                         const ClusterState& state, const SchedulerNames& ours) {
  if (auto why = not_ours(pod, ours)) return refused("tpu-extender does not bind it: " + *why);
  if (!requested_uid.empty() && pod.uid != requested_uid) {
    return refused("pod " + pod.key() + " was replaced (uid " + pod.uid + ", not " + std::string(requested_uid) + ")");
  }
  if (pod.bound()) {
    if (pod.node_name == node) return {BindAdmission::Verdict::kAlreadyBound, ""};
    return refused("pod " + pod.key() + " is already bound to " + pod.node_name);
  }
  if (pod.terminated) return refused("pod " + pod.key() + " has finished");
  if (pod.deleting) return refused("pod " + pod.key() + " is being deleted");
  if (!state.nodes().contains(node)) return refused("node " + node + " does not exist (not in tpu-extender's cache)");
  return {BindAdmission::Verdict::kBind, ""};
}

}  // namespace tpustack::extender
