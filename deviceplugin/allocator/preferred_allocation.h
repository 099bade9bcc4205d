#pragma once

#include <string>
#include <vector>

#include "deviceplugin/allocator/host_inventory.h"

namespace tpustack::deviceplugin {

// Answers GetPreferredAllocation for one container: `size` chips out of `available` that contain
// `must_include`, ICI-contiguous and on one NUMA node when such a set exists (common/topology's
// preferred_chips). Returns device IDs in chip order. Throws AllocationError for unknown IDs, a
// must-include ID that is not available, or a size that cannot be met.
std::vector<std::string> preferred_allocation(const HostInventory& inventory, const std::vector<std::string>& available,
                                              const std::vector<std::string>& must_include, int size);

}  // namespace tpustack::deviceplugin
