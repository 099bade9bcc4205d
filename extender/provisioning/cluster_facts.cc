#include "extender/provisioning/cluster_facts.h"

#include <algorithm>
#include <string>

namespace tpustack::provisioning {
namespace {

using nlohmann::json;

// A quantity of whole chips: "4" or 4. Anything else counts as none, since a TPU request is an integer.
int chip_count(const json& quantity) {
  if (quantity.is_number_integer()) return quantity.get<int>();
  if (!quantity.is_string()) return 0;
  try {
    std::size_t used = 0;
    int value = std::stoi(quantity.get<std::string>(), &used);
    return used == quantity.get<std::string>().size() ? value : 0;
  } catch (const std::exception&) {
    return 0;
  }
}

int container_chips(const json& container) {
  const json& resources = container.value("resources", json::object());
  for (const char* field : {"requests", "limits"}) {
    auto map = resources.find(field);
    if (map != resources.end() && map->contains(kTpuResource)) return chip_count((*map)[kTpuResource]);
  }
  return 0;
}

bool flag_set(const json& meta, const char* key) {
  for (const char* field : {"labels", "annotations"}) {
    auto map = meta.find(field);
    if (map != meta.end() && map->is_object() && map->value(key, "") == "true") return true;
  }
  return false;
}

std::map<std::string, std::string> string_map(const json& object) {
  std::map<std::string, std::string> out;
  if (!object.is_object()) return out;
  for (const auto& [key, value] : object.items()) {
    if (value.is_string()) out[key] = value.get<std::string>();
  }
  return out;
}

// "" for a missing or non-string field: a condition without it matches nothing.
std::string_view string_field(const json& object, const char* key) {
  const auto field = object.find(key);
  return field != object.end() && field->is_string() ? std::string_view(field->get_ref<const std::string&>()) : "";
}

}  // namespace

bool has_condition(const json& object, std::string_view type, std::string_view value, const char* reason) {
  const auto status = object.find("status");
  if (status == object.end() || !status->is_object()) return false;
  const auto conditions = status->find("conditions");
  if (conditions == status->end() || !conditions->is_array()) return false;
  return std::any_of(conditions->begin(), conditions->end(), [&](const json& condition) {
    if (!condition.is_object()) return false;
    return string_field(condition, "type") == type && string_field(condition, "status") == value &&
           (reason == nullptr || string_field(condition, "reason") == reason);
  });
}

PodFacts pod_facts(const json& pod) {
  PodFacts facts;
  const json& meta = pod.value("metadata", json::object());
  const json& spec = pod.value("spec", json::object());
  const json& status = pod.value("status", json::object());
  facts.ns = meta.value("namespace", "default");
  facts.name = meta.value("name", "");
  facts.uid = meta.value("uid", "");
  facts.phase = status.value("phase", "Pending");
  facts.node_name = spec.value("nodeName", "");
  facts.unschedulable = has_condition(pod, "PodScheduled", "False", "Unschedulable");
  facts.deleting = meta.contains("deletionTimestamp") && !meta["deletionTimestamp"].is_null();
  facts.opted_out = flag_set(meta, kOptOutKey) || flag_set(meta, kTpuProvisionerOptOutKey);
  for (const json& container : spec.value("containers", json::array())) facts.tpu_chips += container_chips(container);
  facts.node_selector = string_map(spec.value("nodeSelector", json::object()));
  facts.group = group_of(pod);
  facts.workload = workload_of(pod);
  facts.reference = {{"apiVersion", "v1"},
                     {"kind", "Pod"},
                     {"metadata", {{"namespace", facts.ns}, {"name", facts.name}, {"uid", facts.uid}}}};
  return facts;
}

NodeFacts node_facts(const json& node) {
  NodeFacts facts;
  const json& meta = node.value("metadata", json::object());
  facts.name = meta.value("name", "");
  facts.labels = string_map(meta.value("labels", json::object()));
  facts.unschedulable = node.value("spec", json::object()).value("unschedulable", false);
  facts.ready = has_condition(node, "Ready", "True");
  return facts;
}

}  // namespace tpustack::provisioning
