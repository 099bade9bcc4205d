#pragma once

#include <ctime>
#include <optional>
#include <string_view>

#include "inferd/jinja/value.h"

// The functions every chat template can call: jinja2's range, namespace and dict, and the raise_exception and
// strftime_now that Hugging Face adds.
namespace tpustack::inferd::jinja {

bool is_global_function(std::string_view name);

// What the global functions of one render share with it.
struct RenderEnvironment {
  std::tm now{};                  // what strftime_now formats: the caller's local time
  bool exception_raised = false;  // set by raise_exception, whose message is the template's own words
};

// The global function of that name, bound to the render's environment; nullopt for other names.
std::optional<Value> global_function(std::string_view name, RenderEnvironment& environment);

}  // namespace tpustack::inferd::jinja
