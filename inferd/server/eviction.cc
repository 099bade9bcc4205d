#include "inferd/server/eviction.h"

#include <algorithm>

namespace tpustack::inferd::server {

std::optional<std::vector<std::string>> choose_evictions(std::vector<ResidentModel> resident, uint64_t incoming,
                                                         uint64_t budget) {
  std::vector<std::string> evict;
  if (budget == 0) return evict;
  uint64_t used = 0;
  for (const ResidentModel& model : resident) used += model.bytes;
  std::sort(resident.begin(), resident.end(),
            [](const ResidentModel& a, const ResidentModel& b) { return a.last_used < b.last_used; });
  for (const ResidentModel& model : resident) {
    if (used + incoming <= budget) break;
    if (model.busy) continue;
    evict.push_back(model.name);
    used -= model.bytes;
  }
  if (used + incoming > budget) return std::nullopt;
  return evict;
}

}  // namespace tpustack::inferd::server
