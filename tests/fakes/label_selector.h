#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace tpustack::fakes {

// A label selector as the API server reads `labelSelector`: requirements joined by commas, each one of
// "k=v", "k==v", "k!=v", "k in (a,b)", "k notin (a,b)", "k" (exists) or "!k" (does not exist).
class LabelSelector {
 public:
  // Throws std::invalid_argument quoting the requirement it cannot read.
  static LabelSelector parse(std::string_view text);

  bool matches(const std::map<std::string, std::string>& labels) const;
  // Reads metadata.labels of an API object.
  bool matches(const nlohmann::json& object) const;

 private:
  enum class Op { kIn, kNotIn, kExists, kDoesNotExist };
  struct Requirement {
    std::string key;
    Op op;
    std::vector<std::string> values;
  };
  std::vector<Requirement> requirements_;
};

// A field selector: "path=value", "path==value" or "path!=value" joined by commas, where path is any
// dotted field of the object ("spec.nodeName", "metadata.name", "status.phase"); a missing field
// reads as "".
class FieldSelector {
 public:
  static FieldSelector parse(std::string_view text);
  bool matches(const nlohmann::json& object) const;

 private:
  struct Requirement {
    std::vector<std::string> path;
    bool equal;
    std::string value;
  };
  std::vector<Requirement> requirements_;
};

}  // namespace tpustack::fakes
