#include "common/config/setting_resolver.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <limits>
#include <vector>

#include "common/config/duration.h"

namespace tpustack::config {
namespace {

template <class T>
Result<std::optional<T>> from_config(const ConfigDocument& config, std::string_view key);

template <>
Result<std::optional<std::string>> from_config(const ConfigDocument& config, std::string_view key) {
  return config.get_string(key);
}
template <>
Result<std::optional<long long>> from_config(const ConfigDocument& config, std::string_view key) {
  return config.get_int(key);
}
template <>
Result<std::optional<int>> from_config(const ConfigDocument& config, std::string_view key) {
  const auto value = config.get_int(key);
  if (!value) return value.error();
  if (!*value) return std::optional<int>();
  if (**value < std::numeric_limits<int>::min() || **value > std::numeric_limits<int>::max()) {
    return Error{config.source() + ": " + std::string(key) + ": " + std::to_string(**value) + " is out of range"};
  }
  return std::optional<int>(static_cast<int>(**value));
}
template <>
Result<std::optional<double>> from_config(const ConfigDocument& config, std::string_view key) {
  return config.get_double(key);
}
template <>
Result<std::optional<bool>> from_config(const ConfigDocument& config, std::string_view key) {
  return config.get_bool(key);
}
template <>
Result<std::optional<std::chrono::nanoseconds>> from_config(const ConfigDocument& config, std::string_view key) {
  return config.get_duration(key);
}
template <>
Result<std::optional<std::vector<std::string>>> from_config(const ConfigDocument& config, std::string_view key) {
  return config.get_string_list(key);
}

Error bad_environment(const std::string& origin, const std::string& text, const std::string& expected) {
  return Error{origin + ": expected " + expected + ", got '" + text + "'"};
}

template <class Number>
Result<Number> number_from_text(const std::string& text, const std::string& origin, const char* expected) {
  Number value{};
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) return bad_environment(origin, text, expected);
  return value;
}

template <class T>
Result<T> from_environment(const std::string& text, const std::string& origin);

template <>
Result<std::string> from_environment(const std::string& text, const std::string&) {
  return text;
}
template <>
Result<long long> from_environment(const std::string& text, const std::string& origin) {
  return number_from_text<long long>(text, origin, "an integer");
}
template <>
Result<int> from_environment(const std::string& text, const std::string& origin) {
  return number_from_text<int>(text, origin, "an integer");
}
template <>
Result<double> from_environment(const std::string& text, const std::string& origin) {
  return number_from_text<double>(text, origin, "a number");
}
template <>
Result<bool> from_environment(const std::string& text, const std::string& origin) {
  if (text == "true" || text == "1") return true;
  if (text == "false" || text == "0") return false;
  return bad_environment(origin, text, "true or false");
}
template <>
Result<std::chrono::nanoseconds> from_environment(const std::string& text, const std::string& origin) {
  auto parsed = parse_duration(text);
  if (!parsed) return Error{origin + ": " + parsed.error().message};
  return parsed;
}
template <>
Result<std::vector<std::string>> from_environment(const std::string& text, const std::string&) {
  std::vector<std::string> items;
  for (size_t start = 0; start <= text.size();) {
    const size_t comma = std::min(text.find(',', start), text.size());
    if (comma > start) items.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return items;
}

}  // namespace

SettingResolver::SettingResolver(ConfigDocument config, Environment environment)
    : config_(std::move(config)), environment_(environment ? std::move(environment) : Environment(&std::getenv)) {}

template <class T>
Result<std::optional<Declared<T>>> SettingResolver::find(const SettingNames& names,
                                                         const std::optional<T>& flag) const {
  using Found = std::optional<Declared<T>>;
  if (flag) return Found(Declared<T>{*flag, std::string(names.flag)});
  if (!names.key.empty()) {
    auto value = from_config<T>(config_, names.key);
    if (!value) return value.error();
    if (*value) return Found(Declared<T>{std::move(**value), config_.source() + " " + std::string(names.key)});
  }
  if (!names.env.empty()) {
    const std::string env(names.env);
    if (const char* text = environment_(env.c_str()); text != nullptr && *text != '\0') {
      const std::string origin = "environment " + env;
      auto value = from_environment<T>(text, origin);
      if (!value) return value.error();
      return Found(Declared<T>{std::move(*value), origin});
    }
  }
  return Found();
}

template Result<std::optional<Declared<std::string>>> SettingResolver::find(const SettingNames&,
                                                                            const std::optional<std::string>&) const;
template Result<std::optional<Declared<int>>> SettingResolver::find(const SettingNames&,
                                                                    const std::optional<int>&) const;
template Result<std::optional<Declared<long long>>> SettingResolver::find(const SettingNames&,
                                                                          const std::optional<long long>&) const;
template Result<std::optional<Declared<double>>> SettingResolver::find(const SettingNames&,
                                                                       const std::optional<double>&) const;
template Result<std::optional<Declared<bool>>> SettingResolver::find(const SettingNames&,
                                                                     const std::optional<bool>&) const;
template Result<std::optional<Declared<std::chrono::nanoseconds>>> SettingResolver::find(
    const SettingNames&, const std::optional<std::chrono::nanoseconds>&) const;
template Result<std::optional<Declared<std::vector<std::string>>>> SettingResolver::find(
    const SettingNames&, const std::optional<std::vector<std::string>>&) const;

}  // namespace tpustack::config
