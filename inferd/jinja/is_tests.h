#pragma once

#include <string_view>

#include "common/result/result.h"
#include "inferd/jinja/value.h"

// jinja2's tests, the right side of `x is defined`, `x is not none`, `x is divisibleby 3`.
namespace tpustack::inferd::jinja {

// Whether a test has this name: a template naming any other fails when it is parsed.
bool is_test_name(std::string_view name);
// The named test of value; an Error for a name that is none (from select('name') at render) or bad arguments.
Result<bool> apply_test(std::string_view name, const Value& value, const CallArguments& arguments);

}  // namespace tpustack::inferd::jinja
