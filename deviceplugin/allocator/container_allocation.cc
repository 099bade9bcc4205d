#include "deviceplugin/allocator/container_allocation.h"

#include <algorithm>
#include <set>

#include "common/topology/topology_error.h"

namespace tpustack::deviceplugin {

ContainerAllocation allocate_container(const HostInventory& inventory, const std::vector<std::string>& ids) {
  if (ids.empty()) {
    throw AllocationError(AllocationError::Reason::kInvalidRequest, "Allocate names no device IDs");
  }
  std::vector<int> indices = chip_indices(inventory, ids);
  for (int i : indices) {
    if (!inventory.healthy[i]) {
      throw AllocationError(AllocationError::Reason::kUnhealthy,
                            "device ID '" + inventory.chips[i].id + "' is Unhealthy and cannot be allocated");
    }
  }
  std::sort(indices.begin(), indices.end());

  ContainerAllocation out;
  std::vector<topology::AllocatedChip> allocated;
  std::set<std::string> paths;
  for (int i : indices) {
    const Chip& chip = inventory.chips[i];
    allocated.push_back({chip.index, chip.numa_node});
    for (const auto& path : chip.device_paths) {
      // /dev/vfio/vfio is shared by every VFIO chip; a container gets it once.
      if (paths.insert(path).second) out.devices.push_back({path, path, "mrw"});
    }
  }
  try {
    out.envs = topology::container_environment(inventory.slice, allocated, inventory.environment);
  } catch (const topology::TopologyError& e) {
    std::string names;
    for (int i : indices) names += (names.empty() ? "" : ", ") + inventory.chips[i].id;
    throw AllocationError(AllocationError::Reason::kInvalidRequest,
                          "device IDs [" + names + "] are not a chip set libtpu can run on: " + e.what());
  }
  out.mounts.push_back({kTpuLogsDir, kTpuLogsDir, false});
  return out;
}

}  // namespace tpustack::deviceplugin
