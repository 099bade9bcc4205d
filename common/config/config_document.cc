#include "common/config/config_document.h"

#include <charconv>
#include <fstream>
#include <sstream>

#include "common/config/duration.h"

namespace tpustack::config {
namespace {

std::vector<std::string_view> split_key(std::string_view key) {
  std::vector<std::string_view> parts;
  while (true) {
    const size_t dot = key.find('.');
    parts.push_back(key.substr(0, dot));
    if (dot == std::string_view::npos) break;
    key.remove_prefix(dot + 1);
  }
  return parts;
}

bool is_known(const std::set<std::string>& known, const std::string& key) {
  if (known.contains(key)) return true;
  for (size_t dot = key.rfind('.'); dot != std::string::npos; dot = key.rfind('.', dot - 1)) {
    if (known.contains(key.substr(0, dot) + ".*")) return true;
    if (dot == 0) break;
  }
  return false;
}

}  // namespace

Result<ConfigDocument> ConfigDocument::load_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error{path + ": cannot open config file"};
  std::stringstream text;
  text << in.rdbuf();
  return parse(text.str(), path);
}

Result<ConfigDocument> ConfigDocument::parse(std::string_view text, std::string source_name) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return Error{source_name + ":" + std::to_string(e.mark.line + 1) + ": invalid YAML: " + e.msg};
  }
  if (root && !root.IsNull() && !root.IsMap()) {
    return Error{source_name + ":" + std::to_string(root.Mark().line + 1) +
                 ": the top level must be a mapping of keys to values"};
  }
  return ConfigDocument(root, std::move(source_name));
}

Error ConfigDocument::fail(const YAML::Node& node, std::string_view key, const std::string& what) const {
  const int line = node.Mark().line >= 0 ? node.Mark().line + 1 : 0;
  return Error{source_ + ":" + std::to_string(line) + ": " + std::string(key) + ": " + what};
}

Result<std::optional<YAML::Node>> ConfigDocument::find(std::string_view key) const {
  if (empty()) return std::optional<YAML::Node>();
  // yaml-cpp's operator= on a Node writes through to the node it refers to; reset() rebinds.
  YAML::Node node;
  node.reset(root_);
  std::string walked;
  for (std::string_view part : split_key(key)) {
    if (!node.IsMap()) return fail(node, walked, "expected a mapping");
    YAML::Node child = node[std::string(part)];
    if (!child) return std::optional<YAML::Node>();
    if (!walked.empty()) walked += '.';
    walked += part;
    node.reset(child);
  }
  if (node.IsNull()) return std::optional<YAML::Node>();
  return std::optional<YAML::Node>(node);
}

Result<std::optional<std::string>> ConfigDocument::get_string(std::string_view key) const {
  auto node = find(key);
  if (!node) return node.error();
  if (!*node) return std::optional<std::string>();
  if (!(*node)->IsScalar()) return fail(**node, key, "expected a string");
  return std::optional<std::string>((*node)->Scalar());
}

template <class Number>
Result<std::optional<Number>> ConfigDocument::get_number(std::string_view key, const char* expected) const {
  auto text = get_string(key);
  if (!text) return text.error();
  if (!*text) return std::optional<Number>();
  const std::string& digits = **text;
  Number value{};
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || ptr != digits.data() + digits.size()) {
    return fail(*find(key).value(), key, std::string("expected ") + expected + ", got '" + digits + "'");
  }
  return std::optional<Number>(value);
}

Result<std::optional<long long>> ConfigDocument::get_int(std::string_view key) const {
  return get_number<long long>(key, "an integer");
}

Result<std::optional<double>> ConfigDocument::get_double(std::string_view key) const {
  return get_number<double>(key, "a number");
}

Result<std::optional<bool>> ConfigDocument::get_bool(std::string_view key) const {
  auto text = get_string(key);
  if (!text) return text.error();
  if (!*text) return std::optional<bool>();
  if (**text == "true") return std::optional<bool>(true);
  if (**text == "false") return std::optional<bool>(false);
  return fail(*find(key).value(), key, "expected true or false, got '" + **text + "'");
}

Result<std::optional<std::chrono::nanoseconds>> ConfigDocument::get_duration(std::string_view key) const {
  auto text = get_string(key);
  if (!text) return text.error();
  if (!*text) return std::optional<std::chrono::nanoseconds>();
  auto parsed = parse_duration(**text);
  if (!parsed) return fail(*find(key).value(), key, parsed.error().message);
  return std::optional<std::chrono::nanoseconds>(*parsed);
}

Result<std::optional<std::vector<std::string>>> ConfigDocument::get_string_list(std::string_view key) const {
  auto node = find(key);
  if (!node) return node.error();
  if (!*node) return std::optional<std::vector<std::string>>();
  if (!(*node)->IsSequence()) return fail(**node, key, "expected a list of strings");
  std::vector<std::string> out;
  for (const auto& item : **node) {
    if (!item.IsScalar()) return fail(item, key, "expected a list of strings");
    out.push_back(item.Scalar());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

Result<void> ConfigDocument::reject_unknown_keys(const std::set<std::string>& known) const {
  if (empty()) return {};
  const auto walk = [&](const auto& self, const YAML::Node& map, const std::string& prefix) -> Result<void> {
    for (const auto& entry : map) {
      const std::string key = prefix.empty() ? entry.first.Scalar() : prefix + "." + entry.first.Scalar();
      if (is_known(known, key)) continue;
      if (entry.second.IsMap()) {
        bool has_known_children = false;
        for (const auto& k : known) {
          if (k.rfind(key + ".", 0) == 0) has_known_children = true;
        }
        if (has_known_children) {
          if (auto inner = self(self, entry.second, key); !inner) return inner;
          continue;
        }
      }
      return fail(entry.first, key, "unknown key");
    }
    return {};
  };
  return walk(walk, root_, "");
}

}  // namespace tpustack::config
