#include "bench/extender/bench_cluster.h"

#include "extender/model/kube_names.h"

namespace tpustack::extender::bench {

nlohmann::json node(const std::string& name, const std::string& topology, const std::string& pool, int chips) {
  return {
      {"apiVersion", "v1"},
      {"kind", "Node"},
      {"metadata",
       {{"name", name},
        {"uid", "0b6f1c2e-" + name},
        {"resourceVersion", "123456"},
        {"labels",
         {{std::string(names::kAcceleratorLabel), "tpu-v6e-slice"},
          {std::string(names::kTopologyLabel), topology},
          {std::string(names::kNodePoolLabel), pool},
          {"kubernetes.io/hostname", name},
          {"kubernetes.io/arch", "amd64"},
          {"kubernetes.io/os", "linux"},
          {"node.kubernetes.io/instance-type", chips == 8 ? "ct6e-standard-8t" : "ct6e-standard-4t"},
          {"topology.kubernetes.io/zone", "us-east5-b"}}}}},
      {"spec", {{"taints", {{{"key", "google.com/tpu"}, {"value", "present"}, {"effect", "NoSchedule"}}}}}},
      {"status",
       {{"capacity", {{"cpu", "180"}, {"memory", "720Gi"}, {"google.com/tpu", std::to_string(chips)}}},
        {"allocatable", {{"cpu", "179"}, {"memory", "700Gi"}, {"google.com/tpu", std::to_string(chips)}}},
        {"conditions",
         {{{"type", "Ready"},
           {"status", "True"},
           {"reason", "KubeletReady"},
           {"lastHeartbeatTime", "2026-11-22T23:10:54Z"},
           {"message", "kubelet is posting ready status"}}}},
        {"addresses", {{{"type", "InternalIP"}, {"address", "10.0.0.1"}}, {{"type", "Hostname"}, {"address", name}}}},
        {"nodeInfo", {{"kubeletVersion", "v1.31.1-gke.1000"}, {"architecture", "amd64"}}}}}};
}

nlohmann::json pod(const std::string& name, const std::string& topology, int chips, const std::string& bound_to,
                   int group_index, const std::string& group) {
  nlohmann::json labels = nlohmann::json::object();
  if (group_index >= 0) {
    labels[std::string(names::kJobName)] = group;
    labels[std::string(names::kCompletionIndex)] = std::to_string(group_index);
  }
  nlohmann::json p = {
      {"metadata", {{"name", name}, {"namespace", "ml"}, {"uid", "uid-" + name}, {"labels", labels}}},
      {"spec",
       {{"nodeSelector",
         {{std::string(names::kAcceleratorLabel), "tpu-v6e-slice"}, {std::string(names::kTopologyLabel), topology}}},
        {"tolerations", {{{"key", "google.com/tpu"}, {"operator", "Exists"}}}},
        {"containers",
         {{{"name", "main"},
           {"image", "inferd"},
           {"resources", {{"requests", {{"google.com/tpu", std::to_string(chips)}}}}}}}}}},
      {"status", {{"phase", bound_to.empty() ? "Pending" : "Running"}}}};
  if (!bound_to.empty()) p["spec"]["nodeName"] = bound_to;
  return p;
}

Cluster make_cluster(int node_count) {
  Cluster c;
  int multi = node_count / 2 / 4;
  for (int s = 0; s < multi; ++s) {
    std::string pool = "v6e-4x4-" + std::to_string(s);
    for (int h = 0; h < 4; ++h) {
      std::string name = "gke-" + pool + "-" + std::to_string(h);
      c.nodes.push_back(node(name, "4x4", pool, 4));
      if (s % 5 == 0) c.pods.push_back(pod("w-" + pool + "-" + std::to_string(h), "4x4", 4, name, h, "job-" + pool));
    }
  }
  for (int n = static_cast<int>(c.nodes.size()); n < node_count; ++n) {
    std::string name = "gke-v6e-8t-" + std::to_string(n);
    c.nodes.push_back(node(name, "2x4", "v6e-2x4", 8));
    if (n % 5 == 0) c.pods.push_back(pod("s-" + name, "2x4", 8, name, -1, ""));
  }
  return c;
}

std::vector<std::string> load(ExtenderService& service, const Cluster& cluster) {
  for (const auto& n : cluster.nodes) service.apply_node(n);
  for (const auto& p : cluster.pods) service.apply_pod(p);
  service.set_synced();
  std::vector<std::string> names;
  for (const auto& n : cluster.nodes) names.push_back(n["metadata"]["name"]);
  return names;
}

}  // namespace tpustack::extender::bench
