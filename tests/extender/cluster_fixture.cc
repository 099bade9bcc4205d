#include "tests/extender/cluster_fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "extender/model/kube_names.h"
#include "tests/support/free_port.h"
#include "tests/support/result_matchers.h"

namespace tpustack::extender::testing {

using tpustack::testing::value_of;

std::string captured_scheduler_body(const std::string& name) {
  const std::string path = std::string(TPUSTACK_SOURCE_DIR) + "/tests/extender/data/kube-scheduler-v1.20.2/" + name;
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read captured body " + path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

nlohmann::json node_json(const std::string& name, const std::string& accelerator, const std::string& topology,
                         const std::string& pool, int chips) {
  return {{"apiVersion", "v1"},
          {"kind", "Node"},
          {"metadata",
           {{"name", name},
            {"labels",
             {{std::string(names::kAcceleratorLabel), accelerator},
              {std::string(names::kTopologyLabel), topology},
              {std::string(names::kNodePoolLabel), pool}}}}},
          {"spec", {{"taints", {{{"key", "google.com/tpu"}, {"value", "present"}, {"effect", "NoSchedule"}}}}}},
          {"status",
           {{"allocatable", {{std::string(names::kTpuResource), std::to_string(chips)}}},
            {"conditions", {{{"type", "Ready"}, {"status", "True"}}}}}}};
}

nlohmann::json pod_json(const PodFields& f) {
  nlohmann::json labels = nlohmann::json::object();
  for (const auto& [k, v] : f.labels) labels[k] = v;
  nlohmann::json annotations = nlohmann::json::object();
  for (const auto& [k, v] : f.annotations) annotations[k] = v;
  nlohmann::json selector = nlohmann::json::object();
  if (!f.accelerator.empty()) selector[std::string(names::kAcceleratorLabel)] = f.accelerator;
  if (!f.topology.empty()) selector[std::string(names::kTopologyLabel)] = f.topology;
  nlohmann::json container = {{"name", "main"}, {"image", "registry.invalid/none:0"}};
  if (f.chips > 0) {
    container["resources"] = {{"requests", {{std::string(names::kTpuResource), std::to_string(f.chips)}}},
                              {"limits", {{std::string(names::kTpuResource), std::to_string(f.chips)}}}};
  }
  nlohmann::json pod = {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata",
       {{"name", f.name},
        {"namespace", f.ns},
        {"uid", "uid-" + f.name},
        {"labels", labels},
        {"annotations", annotations}}},
      {"spec",
       {{"containers", {container}},
        {"schedulerName", f.scheduler_name},
        {"nodeSelector", selector},
        {"tolerations", {{{"key", "google.com/tpu"}, {"operator", "Exists"}, {"effect", "NoSchedule"}}}}}},
      {"status", {{"phase", f.phase}}}};
  if (!f.node.empty()) pod["spec"]["nodeName"] = f.node;
  if (!f.hostname.empty()) pod["spec"]["hostname"] = f.hostname;
  if (!f.subdomain.empty()) pod["spec"]["subdomain"] = f.subdomain;
  return pod;
}

PodFields single_pod(const std::string& name, const std::string& accelerator, const std::string& topology, int chips,
                     const std::string& node) {
  PodFields f;
  f.name = name;
  f.accelerator = accelerator;
  f.topology = topology;
  f.chips = chips;
  f.node = node;
  return f;
}

PodFields job_worker(const std::string& job, int index, const std::string& accelerator, const std::string& topology,
                     int chips) {
  PodFields f;
  f.name = job + "-" + std::to_string(index) + "-x7k2p";
  f.accelerator = accelerator;
  f.topology = topology;
  f.chips = chips;
  f.labels = {{std::string(names::kJobName), job}, {std::string(names::kCompletionIndex), std::to_string(index)}};
  f.hostname = job + "-" + std::to_string(index);
  f.subdomain = job;
  return f;
}

PodFields multislice_worker(const std::string& jobset, int slices, int slice, int index, const std::string& accelerator,
                            const std::string& topology, int chips) {
  const std::string job = jobset + "-slice-" + std::to_string(slice);
  PodFields f = job_worker(job, index, accelerator, topology, chips);
  f.subdomain = jobset;
  f.labels.insert(f.labels.end(), {{std::string(names::kJobSetName), jobset},
                                   {std::string(names::kJobSetReplicatedJob), "slice"},
                                   {std::string(names::kJobSetReplicas), std::to_string(slices)},
                                   {std::string(names::kJobSetJobIndex), std::to_string(slice)},
                                   {std::string(names::kJobSetJobKey), "key-" + job}});
  return f;
}

void add_slice(ClusterState& state, const std::string& pool, const std::string& accelerator,
               const std::string& topology, int hosts, int chips_per_host) {
  for (int i = 0; i < hosts; ++i) {
    state.upsert_node(
        value_of(parse_node(node_json(pool + "-" + std::to_string(i), accelerator, topology, pool, chips_per_host))));
  }
}

std::vector<std::string> node_names(const ClusterState& state) {
  std::vector<std::string> names;
  for (const auto& [name, node] : state.nodes()) names.push_back(name);
  return names;
}

}  // namespace tpustack::extender::testing
