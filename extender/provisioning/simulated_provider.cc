#include "extender/provisioning/simulated_provider.h"

#include <spdlog/spdlog.h>

#include "common/kube/event.h"
#include "common/topology/slice_spec.h"
#include "common/topology/topology_error.h"
#include "extender/provisioning/interruptible_sleep.h"
#include "extender/provisioning/provider_error.h"

namespace tpustack::provisioning {
namespace {

using nlohmann::json;

PoolState pending_state(const PoolSpec& spec, const std::string& status) {
  return {spec.name, status, "", spec.labels, spec.node_count(), spec.slice.chips()};
}

// Hosts the slice named by a node's labels has, or 0 when the labels name no slice we know.
int expected_hosts(const NodeFacts& node) {
  try {
    return topology::SliceSpec::make(node.label(kAcceleratorLabel), node.label(kTopologyLabel),
                                     std::atoi(node.label(kAcceleratorCountLabel).c_str()))
        .hosts();
  } catch (const topology::TopologyError&) {
    return 0;  // not a TPU slice we model: nothing to compare the node count with
  }
}

[[noreturn]] void rethrow(const kube::KubeError& e, const std::string& what) {
  throw ProviderError(e.code(), e.reason(), what + ": " + e.what());
}

}  // namespace

std::vector<json> simulated_nodes(const PoolSpec& spec) {
  const std::string chips = std::to_string(spec.slice.chips_per_host());
  json labels = spec.labels;
  labels[kNodePoolLabel] = spec.name;
  labels[kAcceleratorLabel] = std::string(spec.slice.generation_info().accelerator_label);
  labels[kTopologyLabel] = spec.slice.topology().to_string();
  labels[kAcceleratorCountLabel] = chips;
  labels["node.kubernetes.io/instance-type"] = spec.slice.machine_type();
  labels["kubernetes.io/os"] = "linux";
  labels["kubernetes.io/arch"] = "amd64";
  labels[kSimulatedLabel] = "true";
  if (spec.spot) labels[kSpotSelector] = "true";
  json taints = json::array();
  for (const Taint& taint : spec.taints) {
    taints.push_back({{"key", taint.key}, {"value", taint.value}, {"effect", taint.effect}});
  }
  const json resources = {{kTpuResource, chips}, {"cpu", "8"}, {"memory", "64Gi"}, {"pods", "110"}};
  const std::string now = kube::rfc3339(std::chrono::system_clock::now());

  std::vector<json> nodes;
  for (int i = 0; i < spec.node_count(); ++i) {
    std::string name = "gke-" + spec.name + "-" + std::to_string(i);
    json node_labels = labels;
    node_labels["kubernetes.io/hostname"] = name;
    nodes.push_back({{"apiVersion", "v1"},
                     {"kind", "Node"},
                     {"metadata", {{"name", name}, {"labels", node_labels}}},
                     {"spec", {{"taints", taints}}},
                     {"status",
                      {{"capacity", resources},
                       {"allocatable", resources},
                       {"addresses", {{{"type", "Hostname"}, {"address", name}}}},
                       {"conditions",
                        {{{"type", "Ready"},
                          {"status", "True"},
                          {"reason", "KubeletReady"},
                          {"message", "simulated by tpu-extender"},
                          {"lastHeartbeatTime", now},
                          {"lastTransitionTime", now}}}}}}});
  }
  return nodes;
}

SimulatedProvider::SimulatedProvider(kube::KubeClient& client, std::chrono::nanoseconds node_delay)
    : client_(client), node_delay_(node_delay) {}

std::vector<PoolState> SimulatedProvider::list() {
  std::map<std::string, PoolState> pools;
  std::map<std::string, int> hosts;
  std::unique_lock nodes_lock(nodes_mu_);
  try {
    kube::ListOptions options;
    options.label_selector = kNodePoolLabel;
    for (const json& node : client_.list_all(kube::resources::kNodes, "", options).items) {
      NodeFacts facts = node_facts(node);
      PoolState& pool = pools[facts.label(kNodePoolLabel)];
      if (pool.name.empty()) {
        pool.name = facts.label(kNodePoolLabel);
        pool.status = "RUNNING";
        pool.labels = facts.labels;
        pool.labels.erase("kubernetes.io/hostname");
        hosts[pool.name] = expected_hosts(facts);
      }
      ++pool.node_count;
      pool.chips += std::atoi(facts.label(kAcceleratorCountLabel).c_str());
    }
  } catch (const kube::KubeError& e) {
    rethrow(e, "listing nodes");
  }
  nodes_lock.unlock();
  std::lock_guard lock(mu_);
  for (auto& [name, pool] : pools) {
    if (pool.node_count < hosts[name] && !pending_.contains(name)) {
      pool.status = "ERROR";
      pool.status_message = std::to_string(pool.node_count) + " of " + std::to_string(hosts[name]) +
                            " nodes exist and nothing is creating the rest: the process creating them stopped";
    }
  }
  for (const auto& [name, state] : pending_) {
    PoolState& pool = pools[name];
    if (pool.name.empty()) {
      pool = state;
    } else {
      pool.status = state.status;  // a delete in progress keeps the labels its nodes still carry
    }
  }
  std::vector<PoolState> out;
  for (auto& [name, pool] : pools) out.push_back(std::move(pool));
  return out;
}

void SimulatedProvider::create(const PoolSpec& spec, std::stop_token stop) {
  {
    std::lock_guard lock(mu_);
    pending_[spec.name] = pending_state(spec, "PROVISIONING");
  }
  bool waited = sleep_unless_stopped(stop, node_delay_);
  try {
    if (waited) {
      std::lock_guard nodes_lock(nodes_mu_);
      for (const json& node : simulated_nodes(spec)) {
        try {
          client_.create(kube::resources::kNodes, "", node);
        } catch (const kube::KubeError& e) {
          if (!e.already_exists()) throw;
        }
        // Status is a subresource: a server that drops it on create gets it here.
        client_.patch(kube::resources::kNodes, "", node["metadata"]["name"].get<std::string>(),
                      {{"status", node["status"]}}, kube::PatchType::kMerge, "status");
      }
      spdlog::info("simulated provider: pool {} has {} Ready nodes", spec.name, spec.node_count());
    }
  } catch (const kube::KubeError& e) {
    std::lock_guard lock(mu_);
    pending_.erase(spec.name);
    rethrow(e, "creating nodes of pool " + spec.name);
  }
  std::lock_guard lock(mu_);
  pending_.erase(spec.name);
  if (!waited) throw ProviderError(0, "CANCELLED", "stopped before pool " + spec.name + " was created");
}

void SimulatedProvider::remove(const std::string& pool, std::stop_token stop) {
  {
    std::lock_guard lock(mu_);
    pending_[pool] = {pool, "STOPPING", "", {}, 0, 0};
  }
  bool waited = sleep_unless_stopped(stop, node_delay_);
  try {
    if (waited) {
      std::lock_guard nodes_lock(nodes_mu_);
      kube::ListOptions options;
      options.label_selector = std::string(kNodePoolLabel) + "=" + pool;
      for (const json& node : client_.list_all(kube::resources::kNodes, "", options).items) {
        try {
          client_.remove(kube::resources::kNodes, "", node["metadata"]["name"].get<std::string>());
        } catch (const kube::KubeError& e) {
          if (!e.not_found()) throw;
        }
      }
      spdlog::info("simulated provider: pool {} deleted", pool);
    }
  } catch (const kube::KubeError& e) {
    std::lock_guard lock(mu_);
    pending_.erase(pool);
    rethrow(e, "deleting nodes of pool " + pool);
  }
  std::lock_guard lock(mu_);
  pending_.erase(pool);
  if (!waited) throw ProviderError(0, "CANCELLED", "stopped before pool " + pool + " was deleted");
}

}  // namespace tpustack::provisioning
