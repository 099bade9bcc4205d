#include "extender/placement/slice_reservation.h"

namespace tpustack::extender {

ReservingFilter filter_reserving(ClusterState& state, const TpuPod& pod, const std::vector<std::string>& nodes,
                                 std::chrono::steady_clock::time_point now) {
  auto request = analyze_pod(pod, state.index());
  ReservingFilter result{filter_nodes(request, state.index(), nodes), {}, {}};
  if (request.unit && !request.unit->whole) {
    result.reserved = request.unit->reserve;
  } else {
    const bool holds_slice = request.group && request.group->slice >= 0;
    if (request.role != PodRole::kGroupMember || holds_slice || result.outcome.passed.empty()) return result;
    const auto& index = state.index();
    result.reserved[pod.group->key] =
        index.slices()[index.locate(std::string(result.outcome.passed.front())).slice].name;
  }
  if (result.reserved.empty()) return result;
  for (const auto& [group, slice] : result.reserved) state.reserve(group, slice, now);
  if (auto own = result.reserved.find(pod.group->key); own != result.reserved.end())
    result.reserved_slice = own->second;
  result.outcome = filter_nodes(analyze_pod(pod, state.index()), state.index(), nodes);
  return result;
}

}  // namespace tpustack::extender
