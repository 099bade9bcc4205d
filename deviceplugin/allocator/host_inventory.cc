#include "deviceplugin/allocator/host_inventory.h"

#include <set>

namespace tpustack::deviceplugin {

std::vector<int> chip_indices(const HostInventory& inventory, const std::vector<std::string>& ids) {
  std::vector<int> indices;
  std::set<std::string> seen;
  for (const auto& id : ids) {
    if (!seen.insert(id).second) {
      throw AllocationError(AllocationError::Reason::kInvalidRequest, "device ID '" + id + "' is listed twice");
    }
    int found = -1;
    for (const auto& chip : inventory.chips) {
      if (chip.id == id) found = chip.index;
    }
    if (found < 0) {
      throw AllocationError(
          AllocationError::Reason::kInvalidRequest,
          "unknown device ID '" + id + "': this node has " + std::to_string(inventory.chips.size()) + " TPU chips, " +
              (inventory.chips.empty() ? "none" : inventory.chips.front().id + ".." + inventory.chips.back().id));
    }
    indices.push_back(found);
  }
  return indices;
}

void require_healthy(const HostInventory& inventory, const std::vector<int>& indices) {
  for (int i : indices) {
    if (!inventory.healthy[i]) {
      throw AllocationError(AllocationError::Reason::kUnhealthy,
                            "device ID '" + inventory.chips[i].id + "' is Unhealthy and cannot be allocated");
    }
  }
}

}  // namespace tpustack::deviceplugin
