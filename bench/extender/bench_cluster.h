#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "extender/service/extender_service.h"
#include "extender/service/pod_binder.h"

// The cluster the tpu-extender benchmarks place pods on.
namespace tpustack::extender::bench {

// Binds nothing: the benchmarks time the verbs, not the API server.
struct NoBinder : PodBinder {
  Result<void> bind(const std::string&, const std::string&, const std::string&, const std::string&,
                    const StringMap&) override {
    return {};
  }
};

// A Node as the API server sends it, with the usual labels, conditions and addresses, so that the
// Nodes form carries realistic bytes (about 1.5 KB per node).
nlohmann::json node(const std::string& name, const std::string& topology, const std::string& pool, int chips);

// A v6e pod in namespace ml; a worker of Indexed Job `group` when `group_index` >= 0, bound when `bound_to` is set.
nlohmann::json pod(const std::string& name, const std::string& topology, int chips, const std::string& bound_to,
                   int group_index, const std::string& group);

// Half the nodes in 4-host v6e 4x4 slices, half single-host 8-chip v6e 2x4 VMs; every fifth slice of
// each kind is taken (20 % of chips).
struct Cluster {
  std::vector<nlohmann::json> nodes;
  std::vector<nlohmann::json> pods;
};
Cluster make_cluster(int node_count);

// Feeds the cluster to `service` as its informers would, marks it synced, and returns the node names.
std::vector<std::string> load(ExtenderService& service, const Cluster& cluster);

}  // namespace tpustack::extender::bench
