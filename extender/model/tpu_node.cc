#include "extender/model/tpu_node.h"

#include <charconv>
#include <stdexcept>

#include "extender/model/kube_names.h"

namespace tpustack::extender {

namespace {

std::string string_at(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string label(const nlohmann::json& labels, std::string_view key) {
  auto it = labels.find(key);
  return it != labels.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

bool Toleration::tolerates(const Taint& taint) const {
  if (!effect.empty() && effect != taint.effect) return false;
  if (op == "Exists") return key.empty() || key == taint.key;
  return key == taint.key && value == taint.value;
}

int parse_count_quantity(const nlohmann::json& quantity) {
  if (quantity.is_number_integer()) return quantity.get<int>();
  if (quantity.is_string()) {
    const auto& text = quantity.get_ref<const std::string&>();
    int value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc() && end == text.data() + text.size() && value >= 0) return value;
  }
  throw std::invalid_argument("google.com/tpu quantity " + quantity.dump() + " is not a whole number of chips");
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

TpuNode parse_node(const nlohmann::json& object) {
  static const nlohmann::json kEmpty = nlohmann::json::object();
  if (!object.is_object()) throw std::invalid_argument("a Node must be a JSON object");
  const auto& metadata = object.value("metadata", kEmpty);
  TpuNode node;
  node.name = string_at(metadata, "name");
  if (node.name.empty()) throw std::invalid_argument("a Node without metadata.name");
  const auto& labels = metadata.value("labels", kEmpty);
  node.accelerator = label(labels, names::kAcceleratorLabel);
  node.topology = label(labels, names::kTopologyLabel);
  node.pool = label(labels, names::kNodePoolLabel);
  if (node.pool.empty()) node.pool = node.name;
  const std::string group = label(labels, names::kGroupLabel);
  const std::string group_ns = label(labels, names::kGroupNamespaceLabel);
  if (!group.empty() && !group_ns.empty()) node.created_for = group_ns + "/" + group;

  const auto& spec = object.value("spec", kEmpty);
  node.unschedulable = spec.value("unschedulable", false);
  for (const auto& taint : spec.value("taints", nlohmann::json::array())) {
    node.taints.push_back({string_at(taint, "key"), string_at(taint, "value"), string_at(taint, "effect")});
  }

  const auto& status = object.value("status", kEmpty);
  const auto& allocatable = status.value("allocatable", kEmpty);
  auto chips = allocatable.find(names::kTpuResource);
  if (chips != allocatable.end()) node.allocatable_chips = parse_count_quantity(*chips);
  for (const auto& condition : status.value("conditions", nlohmann::json::array())) {
    if (string_at(condition, "type") == "Ready") node.ready = string_at(condition, "status") == "True";
  }
  return node;
}

}  // namespace tpustack::extender
