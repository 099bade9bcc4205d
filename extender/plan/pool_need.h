#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/topology/slice_spec.h"
#include "extender/placement/pod_request.h"

namespace tpustack::extender {

// A node pool that would let waiting pods run: one slice of `spec` for a group, or enough single-host
// nodes for a set of pods of one shape.
struct PoolNeed {
  std::string accelerator;
  topology::SliceSpec spec;
  int nodes = 0;
  std::string for_whom;  // "Job default/train", "3 pods"

  std::string describe() const;  // "tpu-v6e-slice 4x4: 4 x ct6e-standard-4t (for Job default/train)"
};

// The pools waiting pods need, from their requests: a group needs a pool of its slice's hosts; single-
// host pods of one shape share a pool, packed by chips. Pods that name no topology cannot size a pool
// and are left out.
std::vector<PoolNeed> pools_for(const std::vector<PodRequest>& waiting);

}  // namespace tpustack::extender
