// libFuzzer target: arbitrary bytes as the body of each of the four extender verbs, answered by an
// ExtenderService over a small realistic cluster, so that parsing and the decisions behind it both run.
// Besides crashes and sanitizer reports, it fails on a reply that is not the verb's JSON type.
//   scripts/fuzz.sh extender_verbs_fuzzer 300     (clang, ASan+UBSan, libFuzzer)
//   extender_verbs_fuzz_replay tests/fuzz/corpus/extender_verbs   (any compiler; the ctest replay)
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "extender/service/extender_service.h"

namespace tpustack::extender {
namespace {

using nlohmann::json;

json node(const std::string& name, const std::string& accelerator, const std::string& topology, const std::string& pool,
          int chips) {
  return {{"metadata",
           {{"name", name},
            {"labels",
             {{"cloud.google.com/gke-tpu-accelerator", accelerator},
              {"cloud.google.com/gke-tpu-topology", topology},
              {"cloud.google.com/gke-nodepool", pool}}}}},
          {"spec", {{"taints", {{{"key", "google.com/tpu"}, {"value", "present"}, {"effect", "NoSchedule"}}}}}},
          {"status",
           {{"allocatable", {{"google.com/tpu", std::to_string(chips)}}},
            {"conditions", {{{"type", "Ready"}, {"status", "True"}}}}}}};
}

json pod(const std::string& ns, const std::string& name, const std::string& scheduler, int chips,
         const std::string& accelerator, const std::string& topology, const std::string& node_name = "",
         const json& labels = json::object()) {
  json container = {{"name", "main"}, {"image", "registry.invalid/none:0"}};
  if (chips > 0) {
    container["resources"] = {{"requests", {{"google.com/tpu", std::to_string(chips)}}},
                              {"limits", {{"google.com/tpu", std::to_string(chips)}}}};
  }
  json selector = json::object();
  if (!accelerator.empty()) selector["cloud.google.com/gke-tpu-accelerator"] = accelerator;
  if (!topology.empty()) selector["cloud.google.com/gke-tpu-topology"] = topology;
  json object = {{"metadata", {{"name", name}, {"namespace", ns}, {"uid", "uid-" + name}, {"labels", labels}}},
                 {"spec",
                  {{"containers", {container}},
                   {"schedulerName", scheduler},
                   {"nodeSelector", selector},
                   {"tolerations", {{{"key", "google.com/tpu"}, {"operator", "Exists"}, {"effect", "NoSchedule"}}}}}},
                 {"status", {{"phase", node_name.empty() ? "Pending" : "Running"}}}};
  if (!node_name.empty()) object["spec"]["nodeName"] = node_name;
  return object;
}

// The cluster of tests/extender/data/kube-scheduler-v1.20.2 (v5e 2x2 hosts tpu-node-1 and tpu-node-2) plus a
// v6e 4x4 slice of four hosts, a JobSet-style group for it, a pod running on tpu-node-2 and pods of other
// schedulers. The corpus's bodies name these.
struct Cluster {
  std::vector<json> nodes;
  std::vector<json> pods;

  Cluster() {
    for (int i = 1; i <= 2; ++i) {
      const std::string name = "tpu-node-" + std::to_string(i);
      nodes.push_back(node(name, "tpu-v5-lite-podslice", "2x2", name, 4));
    }
    for (int i = 0; i < 4; ++i)
      nodes.push_back(node("gke-v6e-a-" + std::to_string(i), "tpu-v6e-slice", "4x4", "v6e-a", 4));
    nodes.push_back({{"metadata", {{"name", "cpu-node"}}}, {"status", {{"allocatable", {{"cpu", "8"}}}}}});
    for (const auto* name : {"tpu-pod-bind", "tpu-pod-ext", "tpu-pod-nodecache"}) {
      pods.push_back(pod("default", name, "tpu-scheduler", 4, "tpu-v5-lite-podslice", "2x2"));
    }
    pods.push_back(pod("default", "running", "tpu-scheduler", 2, "tpu-v5-lite-podslice", "2x2", "tpu-node-2"));
    pods.push_back(pod("kube-system", "victim", "default-scheduler", 0, "", ""));
    for (int i = 0; i < 4; ++i) {
      pods.push_back(pod("ml", "train-" + std::to_string(i) + "-x7k2p", "tpu-scheduler", 4, "tpu-v6e-slice", "4x4", "",
                         {{"batch.kubernetes.io/job-name", "train"},
                          {"batch.kubernetes.io/job-completion-index", std::to_string(i)}}));
    }
  }
};

struct DiscardingBinder : PodBinder {
  Result<void> bind(const std::string&, const std::string&, const std::string&, const std::string&,
                    const StringMap&) override {
    return {};
  }
};

[[noreturn]] void wrong_reply(const char* verb, const ExtenderService::Reply& reply, const char* why) {
  std::fprintf(stderr, "%s answered %d with %s: %.2000s\n", verb, reply.status, why, reply.body.c_str());
  std::abort();
}

// Every reply is the verb's JSON type. filter and bind always answer 200, with an Error that is empty on
// success; prioritize and preempt answer their result at 200, and at any other status an object with an Error.
void check_reply(const char* verb, const ExtenderService::Reply& reply) {
  const json parsed = json::parse(reply.body, nullptr, false);
  if (parsed.is_discarded()) wrong_reply(verb, reply, "a body that is not JSON");
  const std::string_view name = verb;
  const bool always_200 = name == "filter" || name == "bind";
  if (reply.status != 200 && always_200) wrong_reply(verb, reply, "a status other than 200");
  if (reply.status == 200 && name == "prioritize") {
    if (!parsed.is_array()) wrong_reply(verb, reply, "no HostPriorityList");
    return;
  }
  if (!parsed.is_object()) wrong_reply(verb, reply, "no JSON object");
  if (name == "preempt" && !parsed.contains("NodeNameToMetaVictims")) {
    wrong_reply(verb, reply, "no NodeNameToMetaVictims");
  }
  if (reply.status == 200 && name == "preempt") {
    if (!parsed["NodeNameToMetaVictims"].is_object()) wrong_reply(verb, reply, "no NodeNameToMetaVictims map");
    return;
  }
  if (!parsed.contains("Error") || !parsed["Error"].is_string()) wrong_reply(verb, reply, "no Error");
  const bool error = !parsed["Error"].get<std::string>().empty();
  if (!always_200 && !error) wrong_reply(verb, reply, "a failure status with an empty Error");
  if (name == "filter" && !error && !parsed["NodeNames"].is_array() && !parsed["Nodes"].is_object()) {
    wrong_reply(verb, reply, "neither NodeNames nor Nodes");
  }
}

}  // namespace
}  // namespace tpustack::extender

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tpustack::extender;
  static const Cluster cluster = [] {
    spdlog::set_level(spdlog::level::off);
    return Cluster();
  }();
  // A fresh service per input, so that an input's outcome never depends on the ones before it.
  DiscardingBinder binder;
  tpustack::metrics::MetricsRegistry registry;
  ExtenderService service(binder, registry);
  for (const auto& node : cluster.nodes) service.apply_node(node);
  for (const auto& pod : cluster.pods) service.apply_pod(pod);
  service.set_synced();
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  check_reply("filter", service.filter(body));
  check_reply("prioritize", service.prioritize(body));
  check_reply("preempt", service.preempt(body));
  check_reply("bind", service.bind(body));
  return 0;
}
