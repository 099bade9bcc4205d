#include "deviceplugin/allocator/preferred_allocation.h"

#include <algorithm>

#include "common/topology/chip_search.h"
#include "common/topology/topology_error.h"

namespace tpustack::deviceplugin {

std::vector<std::string> preferred_allocation(const HostInventory& inventory, const std::vector<std::string>& available,
                                              const std::vector<std::string>& must_include, int size) {
  topology::ChipSearchRequest request;
  request.chips_per_host = inventory.slice.chips_per_host();
  request.count = size;
  request.available = chip_indices(inventory, available);
  request.must_include = chip_indices(inventory, must_include);
  for (size_t i = 0; i < must_include.size(); ++i) {
    if (std::find(request.available.begin(), request.available.end(), request.must_include[i]) ==
        request.available.end()) {
      throw AllocationError(AllocationError::Reason::kInvalidRequest,
                            "must-include device ID '" + must_include[i] + "' is not among the available IDs");
    }
  }
  for (const auto& chip : inventory.chips) request.numa_of_chip.push_back(chip.numa_node);
  try {
    std::vector<std::string> ids;
    for (int i : topology::preferred_chips(request)) ids.push_back(inventory.chips[i].id);
    return ids;
  } catch (const topology::TopologyError& e) {
    throw AllocationError(AllocationError::Reason::kInvalidRequest, "cannot choose " + std::to_string(size) + " of " +
                                                                        std::to_string(available.size()) +
                                                                        " available chips: " + e.what());
  }
}

}  // namespace tpustack::deviceplugin
