#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/topology/slice_spec.h"

namespace tpustack::topology {

// A chip handed to a container: its host-local index and its NUMA node (-1 when unknown).
struct AllocatedChip {
  int index = 0;
  int numa_node = -1;
};

struct EnvironmentOptions {
  // Node label cloud.google.com/gke-tpu-ici-resiliency=false.
  bool ici_resiliency_disabled = false;
};

// The environment libtpu needs for exactly these chips of one host of `slice`:
// - all chips of the host: GKE's device-plugin table (§C.4, §I.3), including TPU_WORKER_ID=0 and
//   TPU_WORKER_HOSTNAMES=localhost when the slice is one host;
// - 1, 2 or 4 chips of a larger host, a 1x1, 1x2 or 2x2 block of its grid (is_chip_block): a
//   single-process sub-slice with TPU_VISIBLE_CHIPS, TPU_CHIPS_PER_PROCESS_BOUNDS and TPU_PROCESS_BOUNDS=1,1,1.
// Multi-host worker variables (TPU_WORKER_ID/HOSTNAMES of a group) are the extender's, not added here.
// An Error for an empty, duplicated or out-of-range chip set, or one that is not such a block.
Result<std::map<std::string, std::string>> container_environment(const SliceSpec& slice,
                                                                 const std::vector<AllocatedChip>& chips,
                                                                 const EnvironmentOptions& options = {});

// "8431,8432,8433,8434": libtpu's runtime metrics ports for this many chips.
std::string runtime_metrics_ports(Generation generation, int chips);

}  // namespace tpustack::topology
