#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "common/kube/kube_client.h"
#include "extender/provisioner/node_pool_provider.h"

namespace tpustack::provisioning {

// Marks nodes the simulated provider made, so that nobody mistakes them for VMs.
inline constexpr const char* kSimulatedLabel = "tpustack.dev/simulated";

// The Node objects a real TPU node pool would register, named "gke-<pool>-<i>" for host i
// (0..hosts-1), with GKE's TPU labels, the pool's labels and taints, google.com/tpu capacity and
// allocatable, and Ready=True.
std::vector<nlohmann::json> simulated_nodes(const PoolSpec& spec);

// A node-pool provider that needs no cloud: after `node_delay` it creates (or deletes) the pool's Node
// objects through the Kubernetes API, so the whole stack runs on any cluster and in tests. A resize
// adds copies of a node of the pool, or removes nodes no running pod is bound to first. Pools are
// read back from the nodes' cloud.google.com/gke-nodepool labels; creates still waiting for their delay
// are known only to this process, and a restart simply creates them again (nodes that already exist
// are kept). A pool with fewer nodes than its slice has hosts and no operation of this process on it was
// left half-done by a process that stopped: it is listed in ERROR, so the controller replaces it.
class SimulatedProvider : public NodePoolProvider {
 public:
  SimulatedProvider(kube::KubeClient& client, std::chrono::nanoseconds node_delay);

  std::string name() const override { return "simulated"; }
  Result<std::vector<PoolState>> list() override;
  Result<void> create(const PoolSpec& spec, std::stop_token stop) override;
  Result<void> resize(const std::string& pool, int node_count, std::stop_token stop) override;
  Result<void> remove(const std::string& pool, std::stop_token stop) override;

 private:
  kube::KubeClient& client_;
  // Lists the pool as `pending` while it waits node_delay_, then runs `work` with nodes_mu_ held. The
  // Kubernetes client's failures become provider_error()s naming the operation here.
  Result<void> operate(const PoolState& pending, const std::string& what, std::stop_token stop,
                       const std::function<Result<void>()>& work);
  // Creates the node, or keeps it when it exists, and writes its status.
  Result<void> write_node(const nlohmann::json& node);
  Result<std::vector<nlohmann::json>> nodes_of(const std::string& pool);
  // Deletes the node; one already gone is success.
  Result<void> remove_node(const std::string& name);

  std::chrono::nanoseconds node_delay_;
  // Held while this process writes or reads a pool's nodes, so list() never sees a half-written pool of
  // its own.
  std::mutex nodes_mu_;
  std::mutex mu_;
  // creates waiting (PROVISIONING), resizes (RECONCILING) and deletes (STOPPING)
  std::map<std::string, PoolState> pending_;
};

}  // namespace tpustack::provisioning
