#include "inferd/jinja/globals.h"

#include <algorithm>
#include <array>
#include <ctime>
#include <memory>

#include "inferd/jinja/arguments.h"
#include "inferd/jinja/python_text.h"

namespace tpustack::inferd::jinja {

namespace {

// jinja2's sandbox refuses longer ranges.
constexpr int64_t kMaxRange = 100000;

constexpr std::array<std::string_view, 5> kGlobals = {"range", "namespace", "dict", "raise_exception", "strftime_now"};

Result<Value> range(const CallArguments& arguments) {
  if (!arguments.keyword.empty()) return Error{"range() takes no keyword arguments"};
  const size_t count = arguments.positional.size();
  if (count < 1 || count > 3) return Error{"range expected 1 to 3 arguments, got " + std::to_string(count)};
  std::array<int64_t, 3> bounds{0, 0, 1};  // start, stop, step
  for (size_t i = 0; i < count; ++i) {
    auto bound = arguments.positional[i].integer();
    if (!bound) return Error{"range() takes integers, not " + type_name(arguments.positional[i])};
    bounds[count == 1 ? 1 : i] = *bound;
  }
  const auto [start, stop, step] = bounds;
  if (step == 0) return Error{"range() arg 3 must not be zero"};
  const int64_t length = step > 0 ? (stop > start ? (stop - start - 1) / step + 1 : 0)
                                  : (start > stop ? (start - stop - 1) / -step + 1 : 0);
  if (length > kMaxRange) {
    return Error{"Range too big. The sandbox blocks ranges larger than MAX_RANGE (" + std::to_string(kMaxRange) + ")."};
  }
  std::vector<Value> items;
  items.reserve(static_cast<size_t>(length));
  for (int64_t i = 0; i < length; ++i) items.emplace_back(start + i * step);
  return Value::list(std::move(items));
}

// Python's dict(*args, **kwargs): at most one mapping or sequence of pairs, then keywords.
Result<Mapping> dict_of(const CallArguments& arguments, const std::string& callee) {
  if (arguments.positional.size() > 1) return Error{callee + " takes at most 1 positional argument"};
  Mapping mapping;
  if (!arguments.positional.empty()) {
    const Value& source = arguments.positional[0];
    if (const Mapping* given = source.mapping()) {
      mapping = *given;
    } else {
      auto pairs = iterate(source);
      if (!pairs) return pairs.error();
      for (const Value& pair : *pairs) {
        const Sequence* entry = pair.sequence();
        if (!entry || entry->items.size() != 2 || !entry->items[0].is_string()) {
          return Error{callee + " takes a mapping or a sequence of (str, value) pairs"};
        }
        mapping.set(*entry->items[0].string(), entry->items[1]);
      }
    }
  }
  for (const auto& [key, value] : arguments.keyword) mapping.set(key, value);
  return mapping;
}

Result<Value> strftime_now(const CallArguments& arguments, const std::tm& now) {
  auto bound = bind_arguments(arguments, {"format"}, "strftime_now()");
  if (!bound) return bound.error();
  auto format = optional_string_argument((*bound)[0], "format");
  if (!format) return format.error();
  if (!*format) return Error{"strftime_now() takes a format string"};
  if ((*format)->empty()) return Value(std::string());
  // strftime gives 0 both for a buffer too small and for an empty result; a format a hundred times longer than
  // its text cannot be the latter.
  for (size_t size = 64 + (*format)->size() * 4; size <= 100 * (64 + (*format)->size() * 4); size *= 4) {
    std::string out(size, '\0');
    const size_t written = std::strftime(out.data(), out.size(), (*format)->c_str(), &now);
    if (written > 0) return Value(out.substr(0, written));
  }
  return Value(std::string());
}

}  // namespace

bool is_global_function(std::string_view name) {
  return std::find(kGlobals.begin(), kGlobals.end(), name) != kGlobals.end();
}

std::optional<Value> global_function(std::string_view name, RenderEnvironment& environment) {
  if (name == "range") return Value(Callable{"range", range});
  if (name == "namespace") {
    return Value(Callable{"namespace", [](const CallArguments& arguments) -> Result<Value> {
                            auto attributes = dict_of(arguments, "namespace()");
                            if (!attributes) return attributes.error();
                            return Value(std::make_shared<Namespace>(Namespace{std::move(*attributes)}));
                          }});
  }
  if (name == "dict") {
    return Value(Callable{"dict", [](const CallArguments& arguments) -> Result<Value> {
                            auto mapping = dict_of(arguments, "dict()");
                            if (!mapping) return mapping.error();
                            return Value(std::move(*mapping));
                          }});
  }
  if (name == "raise_exception") {
    return Value(Callable{"raise_exception", [&environment](const CallArguments& arguments) -> Result<Value> {
                            auto bound = bind_arguments(arguments, {"message"}, "raise_exception()");
                            if (!bound) return bound.error();
                            environment.exception_raised = true;
                            return Error{(*bound)[0] ? python_str(*(*bound)[0]) : "raise_exception() was called"};
                          }});
  }
  if (name == "strftime_now") {
    return Value(Callable{"strftime_now", [&environment](const CallArguments& arguments) {
                            return strftime_now(arguments, environment.now);
                          }});
  }
  return std::nullopt;
}

}  // namespace tpustack::inferd::jinja
