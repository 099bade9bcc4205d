#include "extender/plan/object_list.h"

#include <charconv>

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

// Adds the objects of `document` to `out`; false when it holds something else.
bool collect(const nlohmann::json& document, std::vector<nlohmann::json>& out) {
  if (document.is_null()) return true;
  if (document.is_array()) {
    for (const auto& item : document) {
      if (!collect(item, out)) return false;
    }
    return true;
  }
  if (!document.is_object()) return false;
  if (document.contains("items") && document["items"].is_array()) {
    for (const auto& item : document["items"]) {
      if (!collect(item, out)) return false;
    }
    return true;
  }
  out.push_back(document);
  return true;
}

}  // namespace

Result<std::vector<nlohmann::json>> parse_object_list(std::string_view text, const std::string& source) {
  std::vector<nlohmann::json> objects;
  // yaml-cpp reports text that is not YAML by exception; converted here, naming the source and the line.
  try {
    for (const auto& document : YAML::LoadAll(std::string(text))) {
      if (!collect(to_json(document), objects)) {
        return Error{source + ":" + std::to_string(document.Mark().line + 1) +
                     ": expected Kubernetes objects or a List of them"};
      }
    }
  } catch (const YAML::Exception& e) {
    return Error{source + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg};
  }
  return objects;
}

}  // namespace tpustack::extender
