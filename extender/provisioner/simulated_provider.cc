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

Error provider_error_of(const Error& e, const std::string& what) {
  return provider_error(peer_status(e), std::string(peer_reason(e)), what + ": " + e.message);
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
  kube::ListOptions options;
  options.label_selector = kNodePoolLabel;
  auto nodes = client_.list_all(kube::resources::kNodes, "", options);
  if (!nodes) return provider_error_of(nodes.error(), "listing nodes");
  for (const json& node : nodes->items) {
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
  // However the work ends, the pool is no longer pending.
  struct Finished {
    SimulatedProvider& provider;
    const std::string& name;
    ~Finished() {
      std::lock_guard lock(provider.mu_);
      provider.pending_.erase(name);
    }
  };
  bool waited = false;
  Result<void> done;
  {
    const Finished finished{*this, pending.name};
    waited = lifecycle::sleep_unless_stopped(stop, node_delay_);
    if (waited) {
      std::lock_guard nodes_lock(nodes_mu_);
      done = work();
    }
  }
  if (!waited) return provider_error(0, "CANCELLED", "stopped before " + what + " " + pending.name + " finished");
  if (!done) return provider_error_of(done.error(), what + " " + pending.name);
  return done;
}

Result<void> SimulatedProvider::write_node(const json& node) {
  auto created = client_.create(kube::resources::kNodes, "", node);
  if (!created && !kube::already_exists(created.error())) return created.error();
  // Status is a subresource: a server that drops it on create gets it here.
  auto patched = client_.patch(kube::resources::kNodes, "", node["metadata"]["name"].get<std::string>(),
                               {{"status", node["status"]}}, kube::PatchType::kMerge, "status");
  if (!patched) return patched.error();
  return {};
}

Result<std::vector<json>> SimulatedProvider::nodes_of(const std::string& pool) {
  kube::ListOptions options;
  options.label_selector = std::string(kNodePoolLabel) + "=" + pool;
  auto nodes = client_.list_all(kube::resources::kNodes, "", options);
  if (!nodes) return nodes.error();
  return std::move(nodes->items);
}

Result<void> SimulatedProvider::remove_node(const std::string& name) {
  auto removed = client_.remove(kube::resources::kNodes, "", name);
  if (!removed && !kube::not_found(removed.error())) return removed.error();
  return {};
}

Result<void> SimulatedProvider::create(const PoolSpec& spec, std::stop_token stop) {
  return operate({spec.name, PoolStatus::kProvisioning, "", spec.labels, spec.node_count, spec.chips()},
                 "creating pool", stop, [&]() -> Result<void> {
                   for (const json& node : simulated_nodes(spec)) {
                     if (auto written = write_node(node); !written) return written;
                   }
                   spdlog::info("simulated provider: pool {} has {} Ready nodes", spec.name, spec.node_count);
                   return {};
                 });
}

Result<void> SimulatedProvider::resize(const std::string& pool, int node_count, std::stop_token stop) {
  return operate({pool, PoolStatus::kReconciling, "", {}, node_count, 0}, "resizing pool", stop, [&]() -> Result<void> {
    auto nodes = nodes_of(pool);
    if (!nodes) return nodes.error();
    if (nodes->empty()) return provider_error(404, "NOT_FOUND", "it has no node to copy");
    std::set<std::string> names;
    for (const json& node : *nodes) names.insert(node["metadata"]["name"].get<std::string>());
    for (int i = 0; static_cast<int>(names.size()) < node_count; ++i) {
      std::string name = "gke-" + pool + "-" + std::to_string(i);
      if (!names.insert(name).second) continue;
      if (auto written = write_node(copy_of(nodes->front(), name)); !written) return written;
    }
    auto pods = client_.list_all(kube::resources::kPods, "");
    if (!pods) return pods.error();
    std::set<std::string> busy;
    for (const json& pod : pods->items) {
      PodFacts facts = pod_facts(pod);
      if (!facts.terminated()) busy.insert(facts.node_name);
    }
    // Idle nodes go first, the newest of them first.
    std::vector<std::string> order(names.begin(), names.end());
    std::sort(order.begin(), order.end(), [&](const std::string& a, const std::string& b) {
      return std::make_pair(busy.contains(a), -node_index(a)) < std::make_pair(busy.contains(b), -node_index(b));
    });
    for (std::size_t i = 0; static_cast<int>(names.size() - i) > node_count; ++i) {
      if (auto removed = remove_node(order[i]); !removed) return removed;
    }
    spdlog::info("simulated provider: pool {} has {} nodes", pool, node_count);
    return {};
  });
}

Result<void> SimulatedProvider::remove(const std::string& pool, std::stop_token stop) {
  return operate({pool, PoolStatus::kStopping, "", {}, 0, 0}, "deleting pool", stop, [&]() -> Result<void> {
    auto nodes = nodes_of(pool);
    if (!nodes) return nodes.error();
    for (const json& node : *nodes) {
      if (auto removed = remove_node(node["metadata"]["name"].get<std::string>()); !removed) return removed;
    }
    spdlog::info("simulated provider: pool {} deleted", pool);
    return {};
  });
}

}  // namespace tpustack::provisioning
