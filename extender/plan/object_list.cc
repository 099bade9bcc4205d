#include "extender/plan/object_list.h"

#include <charconv>
#include <stdexcept>

#include <yaml-cpp/yaml.h>

namespace tpustack::extender {

namespace {

nlohmann::json scalar(const YAML::Node& node) {
  const std::string& text = node.Scalar();
  if (node.Tag() == "!") return text;  // quoted: always a string
  if (text == "true" || text == "false") return text == "true";
  if (text == "null" || text == "~") return nullptr;
  long long number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (!text.empty() && ec == std::errc() && end == text.data() + text.size()) return number;
  return text;
}

nlohmann::json to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return scalar(node);
    case YAML::NodeType::Sequence: {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& item : node) list.push_back(to_json(item));
      return list;
    }
    case YAML::NodeType::Map: {
      nlohmann::json map = nlohmann::json::object();
      for (const auto& entry : node) map[entry.first.as<std::string>()] = to_json(entry.second);
      return map;
    }
    default:
      return nullptr;
  }
}

void collect(const nlohmann::json& document, std::vector<nlohmann::json>& out, const std::string& source) {
  if (document.is_null()) return;
  if (document.is_array()) {
    for (const auto& item : document) collect(item, out, source);
    return;
  }
  if (!document.is_object()) throw std::runtime_error(source + ": expected Kubernetes objects or a List of them");
  if (document.contains("items") && document["items"].is_array()) {
    for (const auto& item : document["items"]) collect(item, out, source);
    return;
  }
  out.push_back(document);
}

}  // namespace

std::vector<nlohmann::json> parse_object_list(std::string_view text, const std::string& source) {
  std::vector<nlohmann::json> objects;
  try {
    for (const auto& document : YAML::LoadAll(std::string(text))) collect(to_json(document), objects, source);
  } catch (const YAML::Exception& e) {
    throw std::runtime_error(source + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  return objects;
}

}  // namespace tpustack::extender
