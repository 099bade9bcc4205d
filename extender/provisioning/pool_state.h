#pragma once

#include <map>
#include <string>
#include <string_view>

namespace tpustack::provisioning {

// One node pool as a provider reports it. Status uses GKE's words: PROVISIONING, RUNNING,
// RUNNING_WITH_ERROR, RECONCILING, STOPPING, ERROR.
struct PoolState {
  std::string name;
  std::string status;
  std::string status_message;
  std::map<std::string, std::string> labels;  // the node labels the pool gives its nodes
  int node_count = 0;                         // nodes asked for
  int chips = 0;                              // chips over all nodes

  std::string label(std::string_view key) const {
    auto it = labels.find(std::string(key));
    return it == labels.end() ? "" : it->second;
  }
  bool operator==(const PoolState&) const = default;
};

}  // namespace tpustack::provisioning
