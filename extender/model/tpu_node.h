#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result/result.h"

namespace tpustack::extender {

struct Taint {
  std::string key;
  std::string value;
  std::string effect;  // NoSchedule, PreferNoSchedule, NoExecute
};

struct Toleration {
  std::string key;
  std::string op = "Equal";  // Equal or Exists
  std::string value;
  std::string effect;  // empty: every effect

  bool tolerates(const Taint& taint) const;
};

// What the extender needs of a core/v1 Node.
struct TpuNode {
  std::string name;
  std::string accelerator;  // cloud.google.com/gke-tpu-accelerator; empty on non-TPU nodes
  std::string topology;     // cloud.google.com/gke-tpu-topology: the whole slice's shape
  std::string pool;         // cloud.google.com/gke-nodepool, or the node's own name without one
  int allocatable_chips = 0;
  bool ready = false;
  bool unschedulable = false;
  std::vector<Taint> taints;
  // "<ns>/<group>" from the labels the provisioner puts on a pool it created for a group; empty otherwise.
  std::string created_for;

  bool is_tpu() const { return !accelerator.empty(); }
};

// The node, or an Error when the object has no metadata.name or a google.com/tpu quantity that is not a whole
// number. Fields of the wrong type read as absent, as the API server would never send them.
Result<TpuNode> parse_node(const nlohmann::json& node);

// A Kubernetes quantity of a countable resource ("4", 4), or an Error naming the quantity.
Result<int> parse_count_quantity(const nlohmann::json& quantity);

// The first NoSchedule/NoExecute taint none of the tolerations accept, or nullptr.
const Taint* untolerated_taint(const std::vector<Taint>& taints, const std::vector<Toleration>& tolerations);

}  // namespace tpustack::extender
