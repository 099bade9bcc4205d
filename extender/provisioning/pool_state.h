#pragma once

#include <map>
#include <string>
#include <string_view>

namespace tpustack::provisioning {

// A node pool's lifecycle as GKE names it (NodePool.Status). kUnknown stands for a word this version does not
// know (STATUS_UNSPECIFIED, or one GKE adds later); the plan treats it as a pool still settling.
enum class PoolStatus { kProvisioning, kRunning, kRunningWithError, kReconciling, kStopping, kError, kUnknown };

// GKE's word: "RUNNING_WITH_ERROR".
std::string_view to_string(PoolStatus status);
// Inverse of to_string; kUnknown for any other text.
PoolStatus parse_pool_status(std::string_view gke_word);

// One node pool as a provider reports it.
struct PoolState {
  std::string name;
  PoolStatus status = PoolStatus::kUnknown;
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
