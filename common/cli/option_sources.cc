#include "common/cli/option_sources.h"

#include <cctype>
#include <optional>
#include <set>
#include <vector>

namespace tpustack::cli {
namespace {

// The options that are settings: --help and --config (which names the file) are not.
std::optional<std::string> setting_flag(const CLI::Option& option) {
  if (option.get_lnames().empty()) return std::nullopt;
  const std::string& name = option.get_lnames().front();
  if (name == "help" || name == "config") return std::nullopt;
  return "--" + name;
}

std::string_view bare(std::string_view flag) {
  while (flag.starts_with('-')) flag.remove_prefix(1);
  return flag;
}

struct Found {
  std::vector<std::string> values;
  std::string origin;
};

// Repeatable and delimited flags read a list (a YAML sequence, a comma-separated variable); others one value.
Result<std::optional<Found>> find_value(const CLI::Option& option, const config::SettingResolver& resolver,
                                        const config::SettingNames& names) {
  if (option.get_items_expected_max() > 1) {
    auto found = resolver.find<std::vector<std::string>>(names);
    if (!found) return found.error();
    if (!*found) return std::optional<Found>();
    return std::optional<Found>(Found{(*found)->value, (*found)->origin});
  }
  auto found = resolver.find<std::string>(names);
  if (!found) return found.error();
  if (!*found) return std::optional<Found>();
  return std::optional<Found>(Found{{(*found)->value}, (*found)->origin});
}

}  // namespace

std::string config_key_of(std::string_view flag) {
  std::string key;
  bool upper = false;
  for (char c : bare(flag)) {
    if (c == '-' || c == '_') {
      upper = !key.empty();
      continue;
    }
    key += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  return key;
}

std::string environment_name_of(std::string_view env_prefix, std::string_view flag) {
  std::string name(env_prefix);
  for (char c : bare(flag)) name += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

Result<void> fill_unset_flags(CLI::App& app, const config::ConfigDocument& config, std::string_view env_prefix,
                              config::SettingResolver::Environment environment) {
  std::set<std::string> keys;
  for (const CLI::Option* option : app.get_options()) {
    if (auto flag = setting_flag(*option)) keys.insert(config_key_of(*flag));
  }
  if (auto known = config.reject_unknown_keys(keys); !known) return known.error();
  const config::SettingResolver resolver(config, std::move(environment));
  for (CLI::Option* option : app.get_options()) {
    const auto flag = setting_flag(*option);
    if (!flag || option->count() > 0) continue;
    const std::string key = config_key_of(*flag);
    const std::string env = environment_name_of(env_prefix, *flag);
    auto found = find_value(*option, resolver, {*flag, key, env});
    if (!found) return found.error();
    if (!*found) continue;
    try {
      for (const std::string& value : (*found)->values) option->add_result(value);
      option->run_callback();
    } catch (const CLI::Error& e) {
      return Error{(*found)->origin + ": " + e.what()};
    }
  }
  return {};
}

}  // namespace tpustack::cli
