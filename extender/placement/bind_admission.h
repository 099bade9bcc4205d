#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "extender/model/cluster_state.h"
#include "extender/model/tpu_pod.h"

// Which requests the extender acts on. /bind is open to whoever reaches the extender's port, and the
// extender's service account may bind any pod in the cluster: it binds only pods it places, which are the
// pending pods of its own kube-scheduler profiles that request google.com/tpu, and only where its placement
// rules put them. Pure; the caller holds the state's lock.
namespace tpustack::extender {

// The kube-scheduler profiles (spec.schedulerName) whose pods the extender places (`--scheduler-name`).
using SchedulerNames = std::vector<std::string>;

// Why the extender does not speak for `pod`: it is another scheduler's, or it requests no google.com/tpu.
// nullopt when the pod is ours. Used for bind's pod and for preempt's preemptor.
std::optional<std::string> not_ours(const TpuPod& pod, const SchedulerNames& ours);

struct BindAdmission {
  enum class Verdict {
    kBind,          // go on: assume_bind checks the node against the placement rules
    kAlreadyBound,  // bound to this very node already: kube-scheduler retried a bind that went through
    kRefused,
  };
  Verdict verdict = Verdict::kRefused;
  std::string reason;  // why, when refused
};

// Whether kube-scheduler's bind of `pod` (as the state knows it) to `node` may go on: the pod is ours, is the
// pod the request names (`requested_uid`, when given), is pending (not bound elsewhere, not finished, not
// being deleted), and `node` is a node the state knows. Where on which node the pod may go (enough free
// chips, a group member on the host of its worker index on its group's slice) is assume_bind's to say.
BindAdmission admit_bind(const TpuPod& pod, std::string_view requested_uid, const std::string& node,
                         const ClusterState& state, const SchedulerNames& ours);

}  // namespace tpustack::extender
