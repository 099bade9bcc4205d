#pragma once

#include <optional>
#include <string_view>

#include "inferd/jinja/value.h"

// The Python str and dict methods chat templates call: `content.split('</think>')`, `message.get('tool_calls')`.
namespace tpustack::inferd::jinja {

// Whether any value type has this method: a template calling any other fails when it is parsed.
bool is_method_name(std::string_view name);
// self.name as a function bound to self, or nullopt where self's type has no such method.
std::optional<Value> bound_method(const Value& self, std::string_view name);

}  // namespace tpustack::inferd::jinja
