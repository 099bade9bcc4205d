#include "tests/fakes/label_selector.h"

#include <algorithm>
#include <stdexcept>

namespace tpustack::fakes {
namespace {

std::string trim(std::string_view text) {
  std::size_t begin = text.find_first_not_of(' ');
  if (begin == std::string_view::npos) return "";
  std::size_t end = text.find_last_not_of(' ');
  return std::string(text.substr(begin, end - begin + 1));
}

// Splits on commas outside parentheses: "a in (x,y),b" -> {"a in (x,y)", "b"}.
std::vector<std::string> split_requirements(std::string_view text) {
  std::vector<std::string> parts;
  int depth = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || (text[i] == ',' && depth == 0)) {
      std::string part = trim(text.substr(start, i - start));
      if (!part.empty()) parts.push_back(std::move(part));
      start = i + 1;
    } else if (text[i] == '(') {
      ++depth;
    } else if (text[i] == ')') {
      --depth;
    }
  }
  return parts;
}

std::vector<std::string> split_values(std::string_view list) {
  std::vector<std::string> values;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= list.size(); ++i) {
    if (i == list.size() || list[i] == ',') {
      values.push_back(trim(list.substr(start, i - start)));
      start = i + 1;
    }
  }
  return values;
}

std::string field_value(const nlohmann::json& object, const std::vector<std::string>& path) {
  const nlohmann::json* node = &object;
  for (const auto& part : path) {
    if (!node->is_object() || !node->contains(part)) return "";
    node = &(*node)[part];
  }
  if (node->is_string()) return node->get<std::string>();
  if (node->is_null()) return "";
  return node->dump();
}

}  // namespace

LabelSelector LabelSelector::parse(std::string_view text) {
  LabelSelector selector;
  for (const std::string& part : split_requirements(text)) {
    Requirement req;
    auto set_in = [&](std::size_t at, Op op) {
      std::size_t open = part.find('(', at), close = part.rfind(')');
      if (open == std::string::npos || close == std::string::npos || close < open) {
        throw std::invalid_argument("label selector: expected a (list) in '" + part + "'");
      }
      req.key = trim(std::string_view(part).substr(0, at));
      req.op = op;
      req.values = split_values(std::string_view(part).substr(open + 1, close - open - 1));
    };
    if (std::size_t at = part.find(" notin "); at != std::string::npos) {
      set_in(at, Op::kNotIn);
    } else if (std::size_t at2 = part.find(" in "); at2 != std::string::npos) {
      set_in(at2, Op::kIn);
    } else if (std::size_t ne = part.find("!="); ne != std::string::npos) {
      req = {trim(std::string_view(part).substr(0, ne)), Op::kNotIn, {trim(std::string_view(part).substr(ne + 2))}};
    } else if (std::size_t eq = part.find('='); eq != std::string::npos) {
      std::size_t value_at = part.compare(eq, 2, "==") == 0 ? eq + 2 : eq + 1;
      req = {trim(std::string_view(part).substr(0, eq)), Op::kIn, {trim(std::string_view(part).substr(value_at))}};
    } else if (part[0] == '!') {
      req = {trim(std::string_view(part).substr(1)), Op::kDoesNotExist, {}};
    } else {
      req = {part, Op::kExists, {}};
    }
    if (req.key.empty() || req.key.find_first_of(" ()!") != std::string::npos) {
      throw std::invalid_argument("label selector: cannot read '" + part + "'");
    }
    selector.requirements_.push_back(std::move(req));
  }
  return selector;
}

bool LabelSelector::matches(const std::map<std::string, std::string>& labels) const {
  return std::all_of(requirements_.begin(), requirements_.end(), [&](const Requirement& req) {
    auto it = labels.find(req.key);
    auto listed = [&] {
      return it != labels.end() && std::find(req.values.begin(), req.values.end(), it->second) != req.values.end();
    };
    switch (req.op) {
      case Op::kIn:
        return listed();
      case Op::kNotIn:
        return !listed();
      case Op::kExists:
        return it != labels.end();
      case Op::kDoesNotExist:
        return it == labels.end();
    }
    return false;
  });
}

bool LabelSelector::matches(const nlohmann::json& object) const {
  std::map<std::string, std::string> labels;
  if (auto metadata = object.find("metadata"); metadata != object.end() && metadata->contains("labels")) {
    for (const auto& [key, value] : (*metadata)["labels"].items()) {
      if (value.is_string()) labels[key] = value.get<std::string>();
    }
  }
  return matches(labels);
}

FieldSelector FieldSelector::parse(std::string_view text) {
  FieldSelector selector;
  for (const std::string& part : split_requirements(text)) {
    std::size_t ne = part.find("!=");
    std::size_t eq = part.find('=');
    if (eq == std::string::npos) throw std::invalid_argument("field selector: expected '=' or '!=' in '" + part + "'");
    Requirement req;
    req.equal = ne == std::string::npos;
    std::size_t key_end = req.equal ? eq : ne;
    std::size_t value_at = req.equal ? (part.compare(eq, 2, "==") == 0 ? eq + 2 : eq + 1) : ne + 2;
    req.value = trim(std::string_view(part).substr(value_at));
    std::string key = trim(std::string_view(part).substr(0, key_end));
    for (std::size_t start = 0, dot;; start = dot + 1) {
      dot = key.find('.', start);
      req.path.push_back(key.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
      if (dot == std::string::npos) break;
    }
    selector.requirements_.push_back(std::move(req));
  }
  return selector;
}

bool FieldSelector::matches(const nlohmann::json& object) const {
  return std::all_of(requirements_.begin(), requirements_.end(),
                     [&](const Requirement& req) { return (field_value(object, req.path) == req.value) == req.equal; });
}

}  // namespace tpustack::fakes
