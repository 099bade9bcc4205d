#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/config/config_document.h"

namespace tpustack::config {

// A value and where it was declared ("--topology", "plugin.yaml node.topology", "environment
// TPUSTACK_TOPOLOGY"), so an error can say which source to fix.
template <class T>
struct Declared {
  T value;
  std::string origin;
};

// One setting's name in each source; an empty name means the setting has no such source.
struct SettingNames {
  SettingNames(std::string_view flag_name, std::string_view config_key, std::string_view env_name = {})
      : flag(flag_name), key(config_key), env(env_name) {}

  std::string_view flag;  // "--log-level": the command-line parser has read it; the name is for origins
  std::string_view key;   // "logLevel", dotted for nested keys
  std::string_view env;   // "TPUSTACK_LOG_LEVEL"
};

// Every program resolves its settings the same way: the flag when given, else the config file's key, else the
// environment variable, else the default. A value of the wrong type in the file or the environment is an
// Error naming its source, never ignored. An empty environment variable counts as unset.
//
// Types: std::string, int, long long, double, bool, std::chrono::nanoseconds, std::vector<std::string>
// (a comma-separated list in the environment).
class SettingResolver {
 public:
  using Environment = std::function<const char*(const char*)>;

  // `environment` defaults to the process's (std::getenv); tests pass their own.
  explicit SettingResolver(ConfigDocument config, Environment environment = {});

  // The strongest source that has the setting, or nullopt.
  template <class T>
  Result<std::optional<Declared<T>>> find(const SettingNames& names, const std::optional<T>& flag = std::nullopt) const;

  // The strongest source's value, or `fallback`.
  template <class T>
  Result<T> resolve(const SettingNames& names, const std::optional<T>& flag, T fallback) const {
    auto found = find<T>(names, flag);
    if (!found) return found.error();
    return *found ? std::move((*found)->value) : std::move(fallback);
  }

  // For parsers that write flags straight into their targets (CLI11): `target` holds the flag's value when
  // `flag_given`, else the default, which the config file or the environment replace.
  template <class T>
  Result<void> apply(const SettingNames& names, bool flag_given, T& target) const {
    if (flag_given) return {};
    auto found = find<T>(names);
    if (!found) return found.error();
    if (*found) target = std::move((*found)->value);
    return {};
  }

  const ConfigDocument& config() const { return config_; }

 private:
  ConfigDocument config_;
  Environment environment_;
};

}  // namespace tpustack::config
