#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "extender/model/cluster_state.h"
#include "extender/placement/node_judge.h"

namespace tpustack::extender {

struct ReservingFilter {
  FilterOutcome outcome;
  std::string reserved_slice;  // the slice this call reserved for the pod's group; empty when none
  // Every reservation this call made (group → slice): the pod's group's, or a whole multislice unit's.
  Reservations reserved;
};

// filter_nodes with reserve at first sight: when the pod's group holds no slice and the pod fits its host of
// a free one, that slice becomes the whole group's (ClusterState::reserve) and the outcome is recomputed, so
// only the pod's own host of it passes. No member has to wait for another, whichever the scheduler asks
// about first. A member of a multislice unit reserves a free slice for every member lacking one, all at once,
// or nothing (placement/multislice_unit.h). The outcome's names are views into `nodes`.
ReservingFilter filter_reserving(ClusterState& state, const TpuPod& pod, const std::vector<std::string>& nodes,
                                 std::chrono::steady_clock::time_point now);

}  // namespace tpustack::extender
