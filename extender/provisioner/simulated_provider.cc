#include "extender/provisioner/simulated_provider.h"

#include <algorithm>
#include <set>

#include <spdlog/spdlog.h>

#include "common/kube/event.h"
#include "common/lifecycle/interruptible_sleep.h"
#include "common/topology/slice_spec.h"
#include "extender/provisioning/provider_error.h"

namespace tpustack::provisioning {
namespace {

using nlohmann::json;

int node_index(const std::string& node_name) {
  auto dash = node_name.find_last_of('-');
  return dash == std::string::npos ? 0 : std::atoi(node_name.c_str() + dash + 1);
}

// Another node of the same pool, as GKE's instance template makes them alike.
json copy_of(const json& node, const std::string& name) {
  json copy = {{"apiVersion", "v1"},
               {"kind", "Node"},
               {"metadata", {{"name", name}, {"labels", node["metadata"]["labels"]}}},
               {"spec", node.value("spec", json::object())},
               {"status", node.value("status", json::object())}};
  copy["metadata"]["labels"]["kubernetes.io/hostname"] = name;
  copy["status"]["addresses"] = {{{"type", "Hostname"}, {"address", name}}};
  return copy;
}

// Hosts the slice named by a node's labels has, or 0 when the labels name no slice we know.
int expected_hosts(const NodeFacts& node) {
  auto slice = topology::SliceSpec::make(node.label(kAcceleratorLabel), node.label(kTopologyLabel),
                                         std::atoi(node.label(kAcceleratorCountLabel).c_str()));
  return slice ? slice->hosts() : 0;  // 0: not a TPU slice we model, nothing to compare the node count with
}

Error provider_error_of(const kube::KubeError& e, const std::string& what) {
  return provider_error(e.code(), e.reason(), what + ": " + e.what());
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
  for (int i = 0; i < spec.node_count; ++i) {
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

Result<std::vector<PoolState>> SimulatedProvider::list() {
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
        pool.status = PoolStatus::kRunning;
        pool.labels = facts.labels;
        pool.labels.erase("kubernetes.io/hostname");
        hosts[pool.name] = expected_hosts(facts);
      }
      ++pool.node_count;
      pool.chips += std::atoi(facts.label(kAcceleratorCountLabel).c_str());
    }
  } catch (const kube::KubeError& e) {
    return provider_error_of(e, "listing nodes");
  }
  nodes_lock.unlock();
  std::lock_guard lock(mu_);
  for (auto& [name, pool] : pools) {
    if (pool.node_count < hosts[name] && !pending_.contains(name)) {
      pool.status = PoolStatus::kError;
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

Result<void> SimulatedProvider::operate(const PoolState& pending, const std::string& what, std::stop_token stop,
                                        const std::function<Result<void>()>& work) {
  {
    std::lock_guard lock(mu_);
    pending_[pending.name] = pending;
  }
  auto finished = [&] {
    std::lock_guard lock(mu_);
    pending_.erase(pending.name);
  };
  bool waited = lifecycle::sleep_unless_stopped(stop, node_delay_);
  Result<void> done;
  try {
    if (waited) {
      std::lock_guard nodes_lock(nodes_mu_);
      done = work();
    }
  } catch (const kube::KubeError& e) {
    done = provider_error_of(e, what + " " + pending.name);
  } catch (...) {
    finished();
    throw;
  }
  finished();
  if (!waited) return provider_error(0, "CANCELLED", "stopped before " + what + " " + pending.name + " finished");
  return done;
}

void SimulatedProvider::write_node(const json& node) {
  try {
    client_.create(kube::resources::kNodes, "", node);
  } catch (const kube::KubeError& e) {
    if (!e.already_exists()) throw;
  }
  // Status is a subresource: a server that drops it on create gets it here.
  client_.patch(kube::resources::kNodes, "", node["metadata"]["name"].get<std::string>(), {{"status", node["status"]}},
                kube::PatchType::kMerge, "status");
}

std::vector<json> SimulatedProvider::nodes_of(const std::string& pool) {
  kube::ListOptions options;
  options.label_selector = std::string(kNodePoolLabel) + "=" + pool;
  return client_.list_all(kube::resources::kNodes, "", options).items;
}

Result<void> SimulatedProvider::create(const PoolSpec& spec, std::stop_token stop) {
  return operate({spec.name, PoolStatus::kProvisioning, "", spec.labels, spec.node_count, spec.chips()},
                 "creating pool", stop, [&] {
                   for (const json& node : simulated_nodes(spec)) write_node(node);
                   spdlog::info("simulated provider: pool {} has {} Ready nodes", spec.name, spec.node_count);
                   return Result<void>();
                 });
}

Result<void> SimulatedProvider::resize(const std::string& pool, int node_count, std::stop_token stop) {
  return operate({pool, PoolStatus::kReconciling, "", {}, node_count, 0}, "resizing pool", stop, [&]() -> Result<void> {
    std::vector<json> nodes = nodes_of(pool);
    if (nodes.empty()) return provider_error(404, "NOT_FOUND", "pool " + pool + " has no node to copy");
    std::set<std::string> names;
    for (const json& node : nodes) names.insert(node["metadata"]["name"].get<std::string>());
    for (int i = 0; static_cast<int>(names.size()) < node_count; ++i) {
      std::string name = "gke-" + pool + "-" + std::to_string(i);
      if (names.insert(name).second) write_node(copy_of(nodes.front(), name));
    }
    std::set<std::string> busy;
    for (const json& pod : client_.list_all(kube::resources::kPods, "").items) {
      PodFacts facts = pod_facts(pod);
      if (!facts.terminated()) busy.insert(facts.node_name);
    }
    // Idle nodes go first, the newest of them first.
    std::vector<std::string> order(names.begin(), names.end());
    std::sort(order.begin(), order.end(), [&](const std::string& a, const std::string& b) {
      return std::make_pair(busy.contains(a), -node_index(a)) < std::make_pair(busy.contains(b), -node_index(b));
    });
    for (std::size_t i = 0; static_cast<int>(names.size() - i) > node_count; ++i) {
      try {
        client_.remove(kube::resources::kNodes, "", order[i]);
      } catch (const kube::KubeError& e) {
        if (!e.not_found()) throw;
      }
    }
    spdlog::info("simulated provider: pool {} has {} nodes", pool, node_count);
    return {};
  });
}

Result<void> SimulatedProvider::remove(const std::string& pool, std::stop_token stop) {
  return operate({pool, PoolStatus::kStopping, "", {}, 0, 0}, "deleting pool", stop, [&]() -> Result<void> {
    for (const json& node : nodes_of(pool)) {
      try {
        client_.remove(kube::resources::kNodes, "", node["metadata"]["name"].get<std::string>());
      } catch (const kube::KubeError& e) {
        if (!e.not_found()) throw;
      }
    }
    spdlog::info("simulated provider: pool {} deleted", pool);
    return {};
  });
}

}  // namespace tpustack::provisioning
