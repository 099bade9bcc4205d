#include "inferd/jinja/arguments.h"

#include <algorithm>

namespace tpustack::inferd::jinja {

Result<std::vector<std::optional<Value>>> bind_arguments(const CallArguments& arguments,
                                                         const std::vector<std::string_view>& names,
                                                         std::string_view callee) {
  if (arguments.positional.size() > names.size()) {
    return Error{std::string(callee) + " takes at most " + std::to_string(names.size()) + " argument(s), " +
                 std::to_string(arguments.positional.size()) + " given"};
  }
  std::vector<std::optional<Value>> bound(names.size());
  for (size_t i = 0; i < arguments.positional.size(); ++i) bound[i] = arguments.positional[i];
  for (const auto& [keyword, value] : arguments.keyword) {
    const auto found = std::find(names.begin(), names.end(), keyword);
    if (found == names.end())
      return Error{std::string(callee) + " got an unexpected keyword argument '" + keyword + "'"};
    std::optional<Value>& slot = bound[static_cast<size_t>(found - names.begin())];
    if (slot) return Error{std::string(callee) + " got multiple values for argument '" + keyword + "'"};
    slot = value;
  }
  return bound;
}

Result<std::optional<std::string>> optional_string_argument(const std::optional<Value>& argument,
                                                            std::string_view name) {
  if (!argument || argument->is_none()) return std::optional<std::string>();
  if (const std::string* s = argument->string()) return std::optional<std::string>(*s);
  return Error{"argument '" + std::string(name) + "' must be str or None, not " + type_name(*argument)};
}

Result<int64_t> integer_argument(const std::optional<Value>& argument, std::string_view name, int64_t fallback) {
  if (!argument || argument->is_none()) return fallback;
  if (auto i = argument->integer()) return *i;
  return Error{"argument '" + std::string(name) + "' must be an integer, not " + type_name(*argument)};
}

bool flag_argument(const std::optional<Value>& argument, bool fallback) {
  return argument ? truthy(*argument) : fallback;
}

}  // namespace tpustack::inferd::jinja
