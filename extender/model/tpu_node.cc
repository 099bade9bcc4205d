#include "extender/model/tpu_node.h"

#include <charconv>
#include <cstdint>
#include <limits>

#include "common/json/parse_json.h"
#include "extender/model/kube_names.h"

namespace tpustack::extender {

namespace {

using tpustack::json::member;

std::string string_at(const nlohmann::json& object, std::string_view key) {
  const auto& value = member(object, key);
  return value.is_string() ? value.get<std::string>() : std::string();
}

}  // namespace

bool Toleration::tolerates(const Taint& taint) const {
  if (!effect.empty() && effect != taint.effect) return false;
  if (op == "Exists") return key.empty() || key == taint.key;
  return key == taint.key && value == taint.value;
}

Result<int> parse_count_quantity(const nlohmann::json& quantity) {
  if (quantity.is_number_integer() && quantity.get<std::int64_t>() >= 0 &&
      quantity.get<std::int64_t>() <= std::numeric_limits<int>::max()) {
    return quantity.get<int>();
  }
  if (quantity.is_string()) {
    const auto& text = quantity.get_ref<const std::string&>();
    int value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc() && end == text.data() + text.size() && value >= 0) return value;
  }
  return Error{"google.com/tpu quantity " + quantity.dump() + " is not a whole number of chips"};
}

const Taint* untolerated_taint(const std::vector<Taint>& taints, const std::vector<Toleration>& tolerations) {
  for (const auto& taint : taints) {
    if (taint.effect != "NoSchedule" && taint.effect != "NoExecute") continue;
    bool tolerated = false;
    for (const auto& toleration : tolerations) tolerated = tolerated || toleration.tolerates(taint);
    if (!tolerated) return &taint;
  }
  return nullptr;
}

Result<TpuNode> parse_node(const nlohmann::json& object) {
  if (!object.is_object()) return Error{"a Node must be a JSON object"};
  const auto& metadata = member(object, "metadata");
  TpuNode node;
  node.name = string_at(metadata, "name");
  if (node.name.empty()) return Error{"a Node without metadata.name"};
  const auto& labels = member(metadata, "labels");
  node.accelerator = string_at(labels, names::kAcceleratorLabel);
  node.topology = string_at(labels, names::kTopologyLabel);
  node.pool = string_at(labels, names::kNodePoolLabel);
  if (node.pool.empty()) node.pool = node.name;
  const std::string group = string_at(labels, names::kGroupLabel);
  const std::string group_ns = string_at(labels, names::kGroupNamespaceLabel);
  if (!group.empty() && !group_ns.empty()) node.created_for = group_ns + "/" + group;

  const auto& spec = member(object, "spec");
  const auto& unschedulable = member(spec, "unschedulable");
  node.unschedulable = unschedulable.is_boolean() && unschedulable.get<bool>();
  if (const auto& taints = member(spec, "taints"); taints.is_array()) {
    for (const auto& taint : taints) {
      node.taints.push_back({string_at(taint, "key"), string_at(taint, "value"), string_at(taint, "effect")});
    }
  }

  const auto& status = member(object, "status");
  if (const auto& chips = member(member(status, "allocatable"), names::kTpuResource); !chips.is_null()) {
    auto count = parse_count_quantity(chips);
    if (!count) return Error{"node " + node.name + ": " + count.error().message};
    node.allocatable_chips = *count;
  }
  if (const auto& conditions = member(status, "conditions"); conditions.is_array()) {
    for (const auto& condition : conditions) {
      if (string_at(condition, "type") == "Ready") node.ready = string_at(condition, "status") == "True";
    }
  }
  return node;
}

}  // namespace tpustack::extender
