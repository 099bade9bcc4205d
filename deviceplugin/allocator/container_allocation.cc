#include "deviceplugin/allocator/container_allocation.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

namespace tpustack::deviceplugin {

Result<ContainerAllocation> allocate_container(const HostInventory& inventory, const std::vector<std::string>& ids) {
  if (ids.empty()) return Error{"Allocate names no device IDs"};
  auto found = chip_indices(inventory, ids);
  if (!found) return found.error();
  std::vector<int> indices = std::move(*found);
  if (auto healthy = require_healthy(inventory, indices); !healthy) return healthy.error();
  std::sort(indices.begin(), indices.end());

  ContainerAllocation out;
  std::vector<topology::AllocatedChip> allocated;
  std::set<std::string> paths;
  for (int i : indices) {
    const Chip& chip = inventory.chips[i];
    allocated.push_back({chip.index, chip.numa_node});
    if (!inventory.hand_out_device_nodes) continue;
    for (const auto& path : chip.device_paths) {
      // /dev/vfio/vfio is shared by every VFIO chip; a container gets it once.
      if (paths.insert(path).second) out.devices.push_back({path, path, "mrw"});
    }
  }
  auto envs = topology::container_environment(inventory.slice, allocated, inventory.environment);
  if (!envs) {
    std::string names;
    for (int i : indices) names += (names.empty() ? "" : ", ") + inventory.chips[i].id;
    return Error{"device IDs [" + names + "] are not a chip set libtpu can run on: " + envs.error().message};
  }
  out.envs = std::move(*envs);
  out.mounts.push_back({kTpuLogsDir, kTpuLogsDir, false});
  return out;
}

Result<std::vector<ContainerAllocation>> allocate_request(const HostInventory& inventory,
                                                          const std::vector<std::vector<std::string>>& containers) {
  std::vector<ContainerAllocation> allocations;
  std::map<std::string, size_t> container_of;  // device ID → the first container that asked for it
  for (size_t c = 0; c < containers.size(); ++c) {
    for (const auto& id : containers[c]) {
      const auto [it, first] = container_of.emplace(id, c);
      if (!first && it->second != c) {
        return Error{"device ID '" + id + "' is requested by containers " + std::to_string(it->second) + " and " +
                     std::to_string(c) + " of one Allocate request; a chip serves one container"};
      }
    }
    auto allocation = allocate_container(inventory, containers[c]);
    if (!allocation) return allocation.error();
    allocations.push_back(std::move(*allocation));
  }
  return allocations;
}

}  // namespace tpustack::deviceplugin
