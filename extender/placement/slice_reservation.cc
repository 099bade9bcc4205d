#include "extender/placement/slice_reservation.h"

namespace tpustack::extender {

ReservingFilter filter_reserving(ClusterState& state, const TpuPod& pod, const std::vector<std::string>& nodes,
                                 std::chrono::steady_clock::time_point now) {
  auto request = analyze_pod(pod, state.index());
  ReservingFilter result{filter_nodes(request, state.index(), nodes), {}};
  const bool holds_slice = request.group && request.group->slice >= 0;
  if (request.role != PodRole::kGroupMember || holds_slice || result.outcome.passed.empty()) return result;
  const auto& index = state.index();
  result.reserved_slice = index.slices()[index.locate(std::string(result.outcome.passed.front())).slice].name;
  state.reserve(pod.group->key, result.reserved_slice, now);
  result.outcome = filter_nodes(analyze_pod(pod, state.index()), state.index(), nodes);
  return result;
}

}  // namespace tpustack::extender
