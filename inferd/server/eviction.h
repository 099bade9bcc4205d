#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tpustack::inferd::server {

struct ResidentModel {
  std::string name;
  uint64_t bytes = 0;
  uint64_t last_used = 0;  // a logical clock: larger is more recent
  bool busy = false;       // requests queued or running: never evicted
};

// The least recently used idle models to unload so that `incoming` more bytes fit in `budget` (0: no budget); nullopt
// when even unloading every idle model would not make room.
std::optional<std::vector<std::string>> choose_evictions(std::vector<ResidentModel> resident, uint64_t incoming,
                                                         uint64_t budget);

}  // namespace tpustack::inferd::server
