#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "common/result/result.h"
#include "inferd/jinja/value.h"

// `x.name`, `x[key]` and `x[a:b:c]` as jinja2's sandboxed environment resolves them. A missing attribute or item
// is undefined, which fails only where it is used; an Error comes only from looking into undefined itself.
namespace tpustack::inferd::jinja {

// A method of the value's type first (`message.items`), then a dict's key or a namespace's attribute.
Result<Value> attribute_of(const Value& object, std::string_view name);
// A list's item (negative counts from the end), a string's character, a dict's value; a str key that is none of
// these is looked up as an attribute.
Result<Value> item_of(const Value& object, const Value& key);
// A slice of a list, tuple or string; an Error for other values.
Result<Value> slice_of(const Value& object, std::optional<int64_t> start, std::optional<int64_t> stop,
                       std::optional<int64_t> step);

}  // namespace tpustack::inferd::jinja
