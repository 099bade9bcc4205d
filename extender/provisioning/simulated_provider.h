#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "common/kube/kube_client.h"
#include "extender/provisioning/node_pool_provider.h"

namespace tpustack::provisioning {

// Marks nodes the simulated provider made, so that nobody mistakes them for VMs.
inline constexpr const char* kSimulatedLabel = "tpustack.dev/simulated";

// The Node objects a real TPU node pool would register, named "gke-<pool>-<i>" for host i
// (0..hosts-1), with GKE's TPU labels, the pool's labels and taints, google.com/tpu capacity and
// allocatable, and Ready=True.
std::vector<nlohmann::json> simulated_nodes(const PoolSpec& spec);

// A node-pool provider that needs no cloud: after `node_delay` it creates (or deletes) the pool's Node
// objects through the Kubernetes API, so the whole stack runs on any cluster and in tests. Pools are
// read back from the nodes' cloud.google.com/gke-nodepool labels; creates still waiting for their delay
// are known only to this process, and a restart simply creates them again (nodes that already exist
// are kept). A pool with fewer nodes than its slice has hosts and no operation of this process on it was
// left half-done by a process that stopped: it is listed in ERROR, so the controller replaces it.
class SimulatedProvider : public NodePoolProvider {
 public:
  SimulatedProvider(kube::KubeClient& client, std::chrono::nanoseconds node_delay);

  std::string name() const override { return "simulated"; }
  std::vector<PoolState> list() override;
  void create(const PoolSpec& spec, std::stop_token stop) override;
  void remove(const std::string& pool, std::stop_token stop) override;

 private:
  kube::KubeClient& client_;
  std::chrono::nanoseconds node_delay_;
  // Held while this process writes or reads a pool's nodes, so list() never sees a half-written pool of
  // its own.
  std::mutex nodes_mu_;
  std::mutex mu_;
  std::map<std::string, PoolState> pending_;  // creates waiting (PROVISIONING) and deletes (STOPPING)
};

}  // namespace tpustack::provisioning
