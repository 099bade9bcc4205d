#include "deviceplugin/allocator/preferred_allocation.h"

#include <algorithm>
#include <iterator>
#include <map>
#include <utility>

#include "common/topology/chip_search.h"

namespace tpustack::deviceplugin {

Result<std::vector<std::string>> preferred_allocation(const HostInventory& inventory, const PreferredRequest& request) {
  topology::ChipSearchRequest search;
  search.chips_per_host = inventory.slice.chips_per_host();
  search.count = request.size;
  auto must_include = chip_indices(inventory, request.must_include);
  if (!must_include) return must_include.error();
  search.must_include = std::move(*must_include);
  if (auto healthy = require_healthy(inventory, search.must_include); !healthy) return healthy.error();
  const auto available = chip_indices(inventory, request.available);
  if (!available) return available.error();
  for (size_t i = 0; i < request.must_include.size(); ++i) {
    if (std::find(available->begin(), available->end(), search.must_include[i]) == available->end()) {
      return Error{"must-include device ID '" + request.must_include[i] + "' is not among the available IDs"};
    }
  }
  // The kubelet's list may predate a health change that Allocate would hold against the chip.
  std::copy_if(available->begin(), available->end(), std::back_inserter(search.available),
               [&](int i) { return inventory.healthy[i]; });
  for (const auto& chip : inventory.chips) search.numa_of_chip.push_back(chip.numa_node);
  const auto chosen = topology::preferred_chips(search);
  if (!chosen) {
    return Error{"cannot choose " + std::to_string(request.size) + " of " + std::to_string(search.available.size()) +
                 " available healthy chips: " + chosen.error().message};
  }
  std::vector<std::string> ids;
  for (int i : *chosen) ids.push_back(inventory.chips[i].id);
  return ids;
}

Result<std::vector<std::vector<std::string>>> preferred_allocations(const HostInventory& inventory,
                                                                    const std::vector<PreferredRequest>& containers) {
  std::vector<std::vector<std::string>> answers;
  std::map<std::string, size_t> chosen_for;  // device ID → the container it went to
  for (size_t c = 0; c < containers.size(); ++c) {
    PreferredRequest request = containers[c];
    for (const auto& id : request.must_include) {
      if (const auto it = chosen_for.find(id); it != chosen_for.end()) {
        return Error{"must-include device ID '" + id + "' of container " + std::to_string(c) +
                     " is already chosen for container " + std::to_string(it->second)};
      }
    }
    std::erase_if(request.available, [&](const std::string& id) { return chosen_for.contains(id); });
    auto answer = preferred_allocation(inventory, request);
    if (!answer) return answer.error();
    answers.push_back(std::move(*answer));
    for (const auto& id : answers.back()) chosen_for[id] = c;
  }
  return answers;
}

}  // namespace tpustack::deviceplugin
