#pragma once

#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "common/result/result.h"

namespace tpustack::config {

// A YAML configuration file read once at start. Programs ask for dotted keys ("health.interval")
// with the type they need; a key of the wrong type or an unknown key is an Error, never ignored. Every
// Error names the file, the 1-based line and the dotted key, e.g.
// "plugin.yaml:4: health.interval: invalid duration 'soon' (...)".
class ConfigDocument {
 public:
  ConfigDocument() = default;  // empty: every get() returns nullopt

  static Result<ConfigDocument> load_file(const std::string& path);
  static Result<ConfigDocument> parse(std::string_view text, std::string source_name);

  bool empty() const { return !root_ || root_.IsNull(); }
  const std::string& source() const { return source_; }

  // The key's value, nullopt where it is absent or null, or an Error where it has another type.
  Result<std::optional<std::string>> get_string(std::string_view key) const;
  Result<std::optional<long long>> get_int(std::string_view key) const;
  Result<std::optional<double>> get_double(std::string_view key) const;
  Result<std::optional<bool>> get_bool(std::string_view key) const;
  Result<std::optional<std::chrono::nanoseconds>> get_duration(std::string_view key) const;
  Result<std::optional<std::vector<std::string>>> get_string_list(std::string_view key) const;

  // An Error for the first key (depth-first, in file order) that is neither in `known` nor below a
  // known key ending in ".*" (a free-form map such as "nodeSelector.*").
  Result<void> reject_unknown_keys(const std::set<std::string>& known) const;

 private:
  ConfigDocument(YAML::Node root, std::string source) : root_(std::move(root)), source_(std::move(source)) {}
  Result<std::optional<YAML::Node>> find(std::string_view key) const;
  template <class Number>
  Result<std::optional<Number>> get_number(std::string_view key, const char* expected) const;
  // "<file>:<line>: <key>: <what>".
  Error fail(const YAML::Node& node, std::string_view key, const std::string& what) const;

  YAML::Node root_;
  std::string source_;
};

}  // namespace tpustack::config
