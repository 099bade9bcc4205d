#include "deviceplugin/allocator/host_inventory.h"

#include <set>

namespace tpustack::deviceplugin {

Result<std::vector<int>> chip_indices(const HostInventory& inventory, const std::vector<std::string>& ids) {
  std::vector<int> indices;
  std::set<std::string> seen;
  for (const auto& id : ids) {
    if (!seen.insert(id).second) {
      return Error{"device ID '" + id + "' is listed twice"};
    }
    int found = -1;
    for (const auto& chip : inventory.chips) {
      if (chip.id == id) found = chip.index;
    }
    if (found < 0) {
      return Error{"unknown device ID '" + id + "': this node has " + std::to_string(inventory.chips.size()) +
                   " TPU chips, " +
                   (inventory.chips.empty() ? "none" : inventory.chips.front().id + ".." + inventory.chips.back().id)};
    }
    indices.push_back(found);
  }
  return indices;
}

Result<void> require_healthy(const HostInventory& inventory, const std::vector<int>& indices) {
  for (int i : indices) {
    if (!inventory.healthy[i]) {
      return Error{"device ID '" + inventory.chips[i].id + "' is Unhealthy and cannot be allocated",
                   ErrorKind::kFailedPrecondition};
    }
  }
  return {};
}

}  // namespace tpustack::deviceplugin
