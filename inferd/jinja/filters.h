#pragma once

#include <string_view>

#include "common/result/result.h"
#include "inferd/jinja/value.h"

// jinja2's filters that chat templates use (`x | trim`, `tools | tojson(indent=4)`), with Hugging Face's tojson:
// json.dumps with ensure_ascii off, in place of jinja2's HTML-escaping one.
namespace tpustack::inferd::jinja {

// Whether a filter has this name: a template naming any other fails when it is parsed.
bool is_filter_name(std::string_view name);
// input | name(arguments); an Error for a name that is none (from map('name') at render) or bad arguments.
Result<Value> apply_filter(std::string_view name, const Value& input, const CallArguments& arguments);

}  // namespace tpustack::inferd::jinja
