#include "extender/model/tpu_pod.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <string_view>

#include "common/json/parse_json.h"
#include "extender/model/kube_names.h"

namespace tpustack::extender {

namespace {

using tpustack::json::member;

std::string text(const nlohmann::json& object, const char* key) {
  const auto& value = member(object, key);
  return value.is_string() ? value.get<std::string>() : std::string();
}

StringMap string_map(const nlohmann::json& object) {
  StringMap map;
  if (!object.is_object()) return map;
  for (const auto& [key, value] : object.items()) {
    if (value.is_string()) map.emplace(key, value.get<std::string>());
  }
  return map;
}

Result<int> container_chips(const nlohmann::json& container) {
  const auto& resources = member(container, "resources");
  for (const char* kind : {"requests", "limits"}) {
    const auto& quantity = member(member(resources, kind), names::kTpuResource);
    if (!quantity.is_null()) return parse_count_quantity(quantity);
  }
  return 0;
}

// Chips the pod holds while it runs: its containers' together, or its largest init container's.
Result<int> requested_chips(const nlohmann::json& spec) {
  int sum = 0;
  int init_max = 0;
  for (const char* list : {"containers", "initContainers"}) {
    const auto& containers = member(spec, list);
    if (!containers.is_array()) continue;
    for (const auto& container : containers) {
      auto chips = container_chips(container);
      if (!chips) return chips;
      if (list == std::string_view("containers")) {
        sum += std::min(*chips, std::numeric_limits<int>::max() - sum);
      } else {
        init_max = std::max(init_max, *chips);
      }
    }
  }
  return std::max(sum, init_max);
}

std::vector<std::string> split_commas(const std::string& list) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= list.size() && !list.empty()) {
    auto comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    parts.push_back(list.substr(start, comma - start));
    start = comma + 1;
  }
  return parts;
}

std::optional<Placement> read_placement(const StringMap& annotations) {
  auto slice = annotations.find(names::kSliceAnnotation);
  if (slice == annotations.end() || slice->second.empty()) return std::nullopt;
  Placement placement;
  placement.slice = slice->second;
  if (auto id = annotations.find(names::kWorkerIdAnnotation); id != annotations.end()) {
    const auto& s = id->second;
    int value = -1;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec == std::errc() && end == s.data() + s.size()) placement.worker_id = value;
  }
  if (auto hosts = annotations.find(names::kWorkerHostnamesAnnotation); hosts != annotations.end()) {
    placement.worker_hostnames = split_commas(hosts->second);
  }
  return placement;
}

}  // namespace

Result<TpuPod> parse_pod(const nlohmann::json& object) {
  if (!object.is_object()) return Error{"a Pod must be a JSON object"};
  const auto& metadata = member(object, "metadata");
  const auto& spec = member(object, "spec");
  TpuPod pod;
  pod.name = text(metadata, "name");
  if (pod.name.empty()) return Error{"a Pod without metadata.name"};
  pod.ns = text(metadata, "namespace");
  if (pod.ns.empty()) pod.ns = "default";
  pod.uid = text(metadata, "uid");
  pod.node_name = text(spec, "nodeName");
  pod.scheduler_name = text(spec, "schedulerName");
  pod.deleting = !member(metadata, "deletionTimestamp").is_null();
  auto phase = text(member(object, "status"), "phase");
  pod.terminated = phase == "Succeeded" || phase == "Failed";
  const auto& conditions = member(member(object, "status"), "conditions");
  if (conditions.is_array()) {
    for (const auto& condition : conditions) {
      if (text(condition, "type") != "PodScheduled" || text(condition, "status") != "False") continue;
      pod.unschedulable = pod.unschedulable || text(condition, "reason") == "Unschedulable";
      pod.scheduling_error = pod.scheduling_error || text(condition, "reason") == "SchedulerError";
    }
  }
  auto chips = requested_chips(spec);
  if (!chips) return Error{"pod " + pod.ns + "/" + pod.name + ": " + chips.error().message};
  pod.chips = *chips;
  const auto& selector = member(spec, "nodeSelector");
  pod.accelerator = text(selector, std::string(names::kAcceleratorLabel).c_str());
  pod.topology = text(selector, std::string(names::kTopologyLabel).c_str());
  const auto& tolerations = member(spec, "tolerations");
  if (tolerations.is_array()) {
    for (const auto& t : tolerations) {
      Toleration toleration{text(t, "key"), text(t, "operator"), text(t, "value"), text(t, "effect")};
      if (toleration.op.empty()) toleration.op = "Equal";
      pod.tolerations.push_back(std::move(toleration));
    }
  }
  pod.hostname = text(spec, "hostname");
  pod.subdomain = text(spec, "subdomain");
  pod.host_network = member(spec, "hostNetwork").is_boolean() && member(spec, "hostNetwork").get<bool>();
  auto labels = string_map(member(metadata, "labels"));
  auto annotations = string_map(member(metadata, "annotations"));
  pod.group = group_member(pod.ns, labels, annotations);
  pod.placement = read_placement(annotations);
  return pod;
}

StringMap placement_annotations(const Placement& placement) {
  StringMap annotations;
  annotations.emplace(names::kSliceAnnotation, placement.slice);
  if (placement.worker_id >= 0) {
    annotations.emplace(names::kWorkerIdAnnotation, std::to_string(placement.worker_id));
    std::string hosts;
    for (const auto& host : placement.worker_hostnames) hosts += (hosts.empty() ? "" : ",") + host;
    annotations.emplace(names::kWorkerHostnamesAnnotation, hosts);
  }
  return annotations;
}

}  // namespace tpustack::extender
