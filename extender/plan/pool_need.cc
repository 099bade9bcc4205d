#include "extender/plan/pool_need.h"

#include <map>

namespace tpustack::extender {

std::string PoolNeed::describe() const {
  return accelerator + " " + spec.topology().to_string() + ": " + std::to_string(nodes) + " x " + spec.machine_type() +
         " (for " + for_whom + ")";
}

std::vector<PoolNeed> pools_for(const std::vector<PodRequest>& waiting) {
  std::vector<PoolNeed> needs;
  std::map<std::string, bool> groups_seen;
  struct Loose {
    std::string accelerator;
    std::optional<topology::SliceSpec> spec;
    int chips = 0;
    int pods = 0;
  };
  std::map<std::string, Loose> loose;  // by machine type and topology
  for (const auto& request : waiting) {
    if (!request.spec || request.problem) continue;
    if (request.role == PodRole::kGroupMember) {
      if (groups_seen.emplace(request.pod.group->key, true).second) {
        needs.push_back({request.pod.accelerator, *request.spec, request.spec->hosts(), request.pod.group->name});
      }
      continue;
    }
    auto& entry = loose[request.spec->machine_type() + " " + request.spec->topology().to_string()];
    entry.accelerator = request.pod.accelerator;
    entry.spec = request.spec;
    entry.chips += request.pod.chips;
    entry.pods += 1;
  }
  for (const auto& [key, entry] : loose) {
    int per_host = entry.spec->chips_per_host();
    needs.push_back({entry.accelerator, *entry.spec, (entry.chips + per_host - 1) / per_host,
                     std::to_string(entry.pods) + (entry.pods == 1 ? " pod" : " pods")});
  }
  return needs;
}

}  // namespace tpustack::extender
