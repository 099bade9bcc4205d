#include "inferd/jinja/methods.h"

#include <algorithm>
#include <array>

#include "inferd/jinja/arguments.h"
#include "inferd/jinja/python_string.h"

namespace tpustack::inferd::jinja {

namespace {

constexpr std::array<std::string_view, 13> kStringMethods = {"strip",      "lstrip",   "rstrip", "split", "rsplit",
                                                             "startswith", "endswith", "upper",  "lower", "capitalize",
                                                             "replace",    "find",     "join"};
constexpr std::array<std::string_view, 4> kMappingMethods = {"items", "keys", "values", "get"};

template <size_t N>
bool listed(const std::array<std::string_view, N>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// startswith/endswith take a str or a tuple of them.
Result<Value> affix_test(const std::string& text, const Value& affixes, bool prefix, const std::string& method) {
  std::vector<Value> candidates;
  if (const Sequence* tuple = affixes.sequence(); tuple && tuple->kind == Sequence::Kind::kTuple) {
    candidates = tuple->items;
  } else {
    candidates.push_back(affixes);
  }
  for (const Value& candidate : candidates) {
    const std::string* affix = candidate.string();
    if (!affix) return Error{method + " first arg must be str or a tuple of str, not " + type_name(candidate)};
    if (prefix ? text.starts_with(*affix) : text.ends_with(*affix)) return Value(true);
  }
  return Value(false);
}

Result<Value> call_string_method(const std::string& text, const std::string& method, const CallArguments& arguments) {
  const std::string callee = "str." + method + "()";
  if (method == "strip" || method == "lstrip" || method == "rstrip") {
    auto bound = bind_arguments(arguments, {"chars"}, callee);
    if (!bound) return bound.error();
    auto chars = optional_string_argument((*bound)[0], "chars");
    if (!chars) return chars.error();
    const StripSide side = method == "strip"    ? StripSide::kBoth
                           : method == "lstrip" ? StripSide::kLeft
                                                : StripSide::kRight;
    return Value(python_strip(text, *chars, side));
  }
  if (method == "split" || method == "rsplit") {
    auto bound = bind_arguments(arguments, {"sep", "maxsplit"}, callee);
    if (!bound) return bound.error();
    auto separator = optional_string_argument((*bound)[0], "sep");
    if (!separator) return separator.error();
    auto max_splits = integer_argument((*bound)[1], "maxsplit", -1);
    if (!max_splits) return max_splits.error();
    auto parts = python_split(text, *separator, *max_splits, method == "rsplit");
    if (!parts) return parts.error();
    std::vector<Value> items(parts->begin(), parts->end());
    return Value::list(std::move(items));
  }
  if (method == "startswith" || method == "endswith") {
    auto bound = bind_arguments(arguments, {"affix"}, callee);
    if (!bound) return bound.error();
    if (!(*bound)[0]) return Error{callee + " takes exactly one argument"};
    return affix_test(text, *(*bound)[0], method == "startswith", callee);
  }
  if (method == "replace") {
    auto bound = bind_arguments(arguments, {"old", "new", "count"}, callee);
    if (!bound) return bound.error();
    auto old = optional_string_argument((*bound)[0], "old");
    if (!old) return old.error();
    auto replacement = optional_string_argument((*bound)[1], "new");
    if (!replacement) return replacement.error();
    auto count = integer_argument((*bound)[2], "count", -1);
    if (!count) return count.error();
    if (!*old || !*replacement) return Error{callee + " takes the old and the new text as str"};
    return Value(python_replace(text, **old, **replacement, *count));
  }
  if (method == "find") {
    auto bound = bind_arguments(arguments, {"sub"}, callee);
    if (!bound) return bound.error();
    auto needle = optional_string_argument((*bound)[0], "sub");
    if (!needle) return needle.error();
    if (!*needle) return Error{callee + " takes the text to find as str"};
    return Value(python_find(text, **needle));
  }
  if (method == "join") {
    auto bound = bind_arguments(arguments, {"iterable"}, callee);
    if (!bound) return bound.error();
    if (!(*bound)[0]) return Error{callee + " takes exactly one argument"};
    auto items = iterate(*(*bound)[0]);
    if (!items) return items.error();
    std::string out;
    for (size_t i = 0; i < items->size(); ++i) {
      const std::string* item = (*items)[i].string();
      if (!item) {
        return Error{"sequence item " + std::to_string(i) + ": expected str instance, " + type_name((*items)[i]) +
                     " found"};
      }
      if (i > 0) out += text;
      out += *item;
    }
    return Value(std::move(out));
  }
  auto bound = bind_arguments(arguments, {}, callee);
  if (!bound) return bound.error();
  if (method == "upper") return Value(python_upper(text));
  if (method == "lower") return Value(python_lower(text));
  return Value(python_capitalize(text));
}

Result<Value> call_mapping_method(const Mapping& mapping, const std::string& method, const CallArguments& arguments) {
  const std::string callee = "dict." + method + "()";
  if (method == "get") {
    auto bound = bind_arguments(arguments, {"key", "default"}, callee);
    if (!bound) return bound.error();
    if (!(*bound)[0]) return Error{callee + " takes the key"};
    const std::string* key = (*bound)[0]->string();
    const Value* found = key ? mapping.find(*key) : nullptr;
    if (found) return *found;
    return (*bound)[1] ? *(*bound)[1] : Value(nullptr);
  }
  auto bound = bind_arguments(arguments, {}, callee);
  if (!bound) return bound.error();
  std::vector<Value> out;
  out.reserve(mapping.entries.size());
  for (const auto& [key, value] : mapping.entries) {
    if (method == "items") {
      out.push_back(Value::list({Value(key), value}, Sequence::Kind::kTuple));
    } else if (method == "keys") {
      out.emplace_back(key);
    } else {
      out.push_back(value);
    }
  }
  return Value::list(std::move(out));
}

}  // namespace

bool is_method_name(std::string_view name) { return listed(kStringMethods, name) || listed(kMappingMethods, name); }

std::optional<Value> bound_method(const Value& self, std::string_view name) {
  if (self.is_string() && listed(kStringMethods, name)) {
    return Value(Callable{"str." + std::string(name),
                          [text = *self.string(), method = std::string(name)](const CallArguments& arguments) {
                            return call_string_method(text, method, arguments);
                          }});
  }
  if (self.mapping() && listed(kMappingMethods, name)) {
    return Value(
        Callable{"dict." + std::string(name), [self, method = std::string(name)](const CallArguments& arguments) {
                   return call_mapping_method(*self.mapping(), method, arguments);
                 }});
  }
  return std::nullopt;
}

}  // namespace tpustack::inferd::jinja
