// Filter and prioritize latency of tpu-extender at 1,000 / 5,000 / 15,000 nodes with 20 % of chips in
// use, in both request forms, JSON parsing and encoding included (the whole ExtenderService call, no
// sockets). Baseline in the same run: parsing the request body alone.
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/metrics/metrics_registry.h"
#include "extender/model/kube_names.h"
#include "extender/service/extender_service.h"

namespace {

using namespace tpustack::extender;
namespace names = tpustack::extender::names;

struct NoBinder : PodBinder {
  void bind(const std::string&, const std::string&, const std::string&, const std::string&, const StringMap&) override {
  }
};

// A Node as the API server sends it, with the usual labels, conditions and addresses, so that the
// Nodes form carries realistic bytes (about 1.5 KB per node).
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

// Half the nodes in 4-host v6e 4x4 slices, half single-host 8-chip v6e 2x4 VMs; every fifth slice of
// each kind is taken (20 % of chips).
struct Cluster {
  std::vector<nlohmann::json> nodes;
  std::vector<nlohmann::json> pods;
};

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

struct Percentiles {
  double p50_ms, p99_ms;      // wall clock
  double cpu50_ms, cpu99_ms;  // this thread's CPU time: what the call costs without other processes' noise
};

double thread_cpu_ms() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

template <class Fn>
Percentiles measure(int iterations, Fn&& fn) {
  std::vector<double> wall, cpu;
  for (int i = 0; i < iterations; ++i) {
    auto start = std::chrono::steady_clock::now();
    double cpu_start = thread_cpu_ms();
    fn();
    cpu.push_back(thread_cpu_ms() - cpu_start);
    wall.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  auto at = [](std::vector<double>& v, double q) {
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(q * v.size()))];
  };
  return {at(wall, 0.50), at(wall, 0.99), at(cpu, 0.50), at(cpu, 0.99)};
}

}  // namespace

// extender_latency_bench [NODES...] [--names-only]: by default 1000 5000 15000, both forms.
int main(int argc, char** argv) {
  std::vector<int> sizes;
  bool names_only = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--names-only") {
      names_only = true;
    } else {
      sizes.push_back(std::stoi(arg));
    }
  }
  if (sizes.empty()) sizes = {1000, 5000, 15000};
  std::printf("%-6s %-9s %-10s %-11s %8s %8s %8s %8s %8s %8s %7s\n", "nodes", "form", "verb", "pod", "p50 ms", "p99 ms",
              "cpu p50", "cpu p99", "parse50", "parse99", "body KB");
  for (int node_count : sizes) {
    auto cluster = make_cluster(node_count);
    NoBinder binder;
    tpustack::metrics::MetricsRegistry registry;
    ExtenderService service(binder, registry);
    for (const auto& n : cluster.nodes) service.apply_node(n);
    for (const auto& p : cluster.pods) service.apply_pod(p);
    service.set_synced();
    std::vector<std::string> names;
    for (const auto& n : cluster.nodes) names.push_back(n["metadata"]["name"]);

    struct Case {
      const char* label;
      nlohmann::json pod;
    };
    Case cases[] = {{"leader4x4", pod("leader", "4x4", 4, "", 0, "new-job")},
                    {"single2x4", pod("single", "2x4", 4, "", -1, "")}};
    for (bool nodes_form : {false, true}) {
      if (nodes_form && names_only) continue;
      int iterations = nodes_form ? (node_count >= 15000 ? 15 : 40) : 300;
      for (const auto& c : cases) {
        nlohmann::json args = {{"Pod", c.pod}};
        if (nodes_form) {
          args["Nodes"] = {{"metadata", nlohmann::json::object()}, {"items", cluster.nodes}};
          args["NodeNames"] = nullptr;
        } else {
          args["Nodes"] = nullptr;
          args["NodeNames"] = names;
        }
        std::string body = args.dump();
        auto parse = measure(iterations, [&] { return nlohmann::json::parse(body).size(); });
        auto filter = measure(iterations, [&] { return service.filter(body).body.size(); });
        auto prioritize = measure(iterations, [&] { return service.prioritize(body).body.size(); });
        for (auto [verb, result] : {std::pair{"filter", filter}, std::pair{"prioritize", prioritize}}) {
          std::printf("%-6d %-9s %-10s %-11s %8.3f %8.3f %8.3f %8.3f %8.3f %8.3f %7zu\n", node_count,
                      nodes_form ? "Nodes" : "NodeNames", verb, c.label, result.p50_ms, result.p99_ms, result.cpu50_ms,
                      result.cpu99_ms, parse.p50_ms, parse.p99_ms, body.size() / 1024);
        }
      }
    }
  }
  return 0;
}
