#pragma once

#include <stop_token>
#include <string>
#include <vector>

#include "common/result/result.h"
#include "extender/provisioning/pool_spec.h"
#include "extender/provisioning/pool_state.h"

namespace tpustack::provisioning {

// Where node pools come from: GKE, Node objects made up in the cluster, or nowhere (dry run).
// create, resize and remove block until the operation is finished and return a provider_error() when it
// failed; they are called from worker threads, a few at a time. A create of a pool that exists and a
// remove of one that does not both succeed, and a resize sets an absolute size, so a retried operation
// is harmless.
class NodePoolProvider {
 public:
  virtual ~NodePoolProvider() = default;

  virtual std::string name() const = 0;
  // Every pool of the cluster, including ones still being created and ones not ours.
  virtual Result<std::vector<PoolState>> list() = 0;
  virtual Result<void> create(const PoolSpec& spec, std::stop_token stop) = 0;
  // Gives the pool `node_count` nodes (per zone, as GKE's setSize does).
  virtual Result<void> resize(const std::string& pool, int node_count, std::stop_token stop) = 0;
  virtual Result<void> remove(const std::string& pool, std::stop_token stop) = 0;
};

}  // namespace tpustack::provisioning
