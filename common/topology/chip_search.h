#pragma once

#include <optional>
#include <vector>

#include "common/result/result.h"

namespace tpustack::topology {

// A kubelet-style question about one host: which `count` chips, out of `available`, must contain
// `must_include`? Chips are host-local indices (see host_grid.h).
struct ChipSearchRequest {
  int chips_per_host = 0;
  int count = 0;
  std::vector<int> available;
  std::vector<int> must_include;
  std::vector<int> numa_of_chip;  // NUMA node per chip index; empty or -1 when unknown
};

// An ICI-contiguous block with libtpu's shape for `count` (1x1, 1x2, 2x2, 2x4), inside `available`,
// containing `must_include`. Among candidates it prefers the fewest NUMA nodes, then blocks aligned
// to their own size (which keeps the rest of the host usable), then the lowest chip. Returns
// sorted chip indices, or nullopt when no such block exists; an Error for a malformed request.
Result<std::optional<std::vector<int>>> find_contiguous_block(const ChipSearchRequest& request);

// What GetPreferredAllocation answers: the best block (find_contiguous_block), never a set a TPU
// process cannot run on, or an Error saying why there is none: a count with no libtpu
// shape (3, 5, 6, 7), too few chips available, or no free block that holds `must_include`.
Result<std::vector<int>> preferred_chips(const ChipSearchRequest& request);

}  // namespace tpustack::topology
