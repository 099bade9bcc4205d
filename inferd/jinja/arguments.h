#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result/result.h"
#include "inferd/jinja/value.h"

// Matching the arguments of a call to what the callee (a filter, test, method or global function) takes.
namespace tpustack::inferd::jinja {

// One value per parameter, as Python matches them: positional ones first, then by keyword; absent where the call
// gave none. An Error names the callee for too many arguments, an unknown keyword, or one given twice.
Result<std::vector<std::optional<Value>>> bind_arguments(const CallArguments& arguments,
                                                         const std::vector<std::string_view>& parameters,
                                                         std::string_view callee);

// A str argument; absent or None gives nullopt.
Result<std::optional<std::string>> optional_string_argument(const std::optional<Value>& argument,
                                                            std::string_view name);
// An int argument (a bool counts); absent or None gives `fallback`.
Result<int64_t> integer_argument(const std::optional<Value>& argument, std::string_view name, int64_t fallback);
// Any argument read as a truth value; absent gives `fallback`.
bool flag_argument(const std::optional<Value>& argument, bool fallback);

}  // namespace tpustack::inferd::jinja
