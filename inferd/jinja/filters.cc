#include "inferd/jinja/filters.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iterator>

#include "inferd/jinja/arguments.h"
#include "inferd/jinja/is_tests.h"
#include "inferd/jinja/lookup.h"
#include "inferd/jinja/python_string.h"
#include "inferd/jinja/python_text.h"
#include "inferd/tokenizer/unicode_text.h"

namespace tpustack::inferd::jinja {

namespace {

using Bound = std::vector<std::optional<Value>>;
using Filter = Result<Value> (*)(const Value& input, const Bound& arguments);

Value iterator(std::vector<Value> items) { return Value::list(std::move(items), Sequence::Kind::kIterator); }

// item.a.b.0 for the attribute "a.b.0" of map, join, selectattr and rejectattr: digits look up list items.
Result<Value> attribute_path(Value item, const Value& attribute, const std::optional<Value>& fallback) {
  std::vector<Value> parts;
  if (const std::string* path = attribute.string()) {
    auto names = python_split(*path, std::string("."), -1, false);
    if (!names) return names.error();
    for (const std::string& name : *names) {
      const bool digits =
          !name.empty() && std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; });
      parts.push_back(digits ? Value(static_cast<int64_t>(std::strtoll(name.c_str(), nullptr, 10))) : Value(name));
    }
  } else {
    parts.push_back(attribute);
  }
  for (const Value& part : parts) {
    auto next = item_of(item, part);
    if (!next) return next.error();
    item = *next;
    if (fallback && !fallback->is_none() && item.is_undefined()) item = *fallback;
  }
  return item;
}

Result<Value> length_of(const Value& input) {
  if (input.is_undefined()) return Value(0);
  if (const std::string* text = input.string()) return Value(static_cast<int64_t>(code_point_count(*text)));
  if (const Sequence* sequence = input.sequence(); sequence && sequence->kind != Sequence::Kind::kIterator) {
    return Value(static_cast<int64_t>(sequence->items.size()));
  }
  if (const Mapping* mapping = input.mapping()) return Value(static_cast<int64_t>(mapping->entries.size()));
  return Error{"object of type '" + type_name(input) + "' has no len()"};
}

Result<Value> filter_abs(const Value& input, const Bound&) {
  if (input.is_undefined()) return undefined_error(input);
  if (auto i = input.integer()) {
    if (*i == INT64_MIN) return Error{"integer overflow (beyond 64 bits)"};
    return Value(std::abs(*i));
  }
  if (const double* d = input.get_if<double>()) return Value(std::fabs(*d));
  return Error{"bad operand type for abs(): '" + type_name(input) + "'"};
}

Result<Value> filter_capitalize(const Value& input, const Bound&) {
  return Value(python_capitalize(python_str(input)));
}
Result<Value> filter_lower(const Value& input, const Bound&) { return Value(python_lower(python_str(input))); }
Result<Value> filter_upper(const Value& input, const Bound&) { return Value(python_upper(python_str(input))); }
Result<Value> filter_string(const Value& input, const Bound&) { return Value(python_str(input)); }
Result<Value> filter_length(const Value& input, const Bound&) { return length_of(input); }

// jinja2's title: each run of text after a run of whitespace, '-', '(', '{', '[' or '<' starts upper case, the
// rest lower case.
Result<Value> filter_title(const Value& input, const Bound&) {
  const auto separates = [](char32_t c) {
    return is_python_space(c) || c == U'-' || c == U'(' || c == U'{' || c == U'[' || c == U'<';
  };
  std::string out;
  bool word_start = true;
  for (char32_t c : code_points_of(python_str(input))) {
    std::string character;
    tokenizer::append_utf8(character, c);
    out += separates(c) ? character : word_start ? python_upper(character) : python_lower(character);
    word_start = separates(c);
  }
  return Value(std::move(out));
}

// A float's integer part, as Python's int() truncates it.
Result<Value> truncated(double number, const Value& fallback) {
  if (std::isnan(number)) return fallback;
  if (std::isinf(number)) return Error{"cannot convert float infinity to integer"};
  if (number >= 9.2233720368547758e18 || number < -9.2233720368547758e18) {
    return Error{"integer overflow (beyond 64 bits)"};
  }
  return Value(static_cast<int64_t>(number));
}

// int(value), or int(float(value)) for text like "4.2", or the default (0) for what neither reads.
Result<Value> filter_int(const Value& input, const Bound& arguments) {
  const Value fallback = arguments[0] ? *arguments[0] : Value(0);
  auto base = integer_argument(arguments[1], "base", 10);
  if (!base) return base.error();
  if (input.is_undefined()) return undefined_error(input);
  if (auto i = input.integer()) return Value(*i);
  if (const double* d = input.get_if<double>()) return truncated(*d, fallback);
  if (const std::string* text = input.string()) {
    if (auto i = python_int(*text, static_cast<int>(*base))) return Value(*i);
    if (auto d = python_float(*text)) return truncated(*d, fallback);
  }
  return fallback;
}

Result<Value> filter_float(const Value& input, const Bound& arguments) {
  const Value fallback = arguments[0] ? *arguments[0] : Value(0.0);
  if (input.is_undefined()) return undefined_error(input);
  if (auto d = input.number()) return Value(*d);
  if (const std::string* text = input.string()) {
    if (auto d = python_float(*text)) return Value(*d);
  }
  return fallback;
}

Result<Value> filter_trim(const Value& input, const Bound& arguments) {
  auto chars = optional_string_argument(arguments[0], "chars");
  if (!chars) return chars.error();
  return Value(python_strip(python_str(input), *chars, StripSide::kBoth));
}

Result<Value> filter_default(const Value& input, const Bound& arguments) {
  if (input.is_undefined() || (flag_argument(arguments[1], false) && !truthy(input))) {
    return arguments[0] ? *arguments[0] : Value("");
  }
  return input;
}

Result<Value> filter_first(const Value& input, const Bound&) {
  auto items = iterate(input);
  if (!items) return items.error();
  if (items->empty()) return Value(Undefined{"No first item, sequence was empty."});
  return items->front();
}

Result<Value> filter_last(const Value& input, const Bound&) {
  if (const Sequence* sequence = input.sequence(); sequence && sequence->kind == Sequence::Kind::kIterator) {
    return Error{"'generator' object is not reversible"};
  }
  auto items = iterate(input);
  if (!items) return items.error();
  if (items->empty()) return Value(Undefined{"No last item, sequence was empty."});
  return items->back();
}

Result<Value> filter_list(const Value& input, const Bound&) {
  auto items = iterate(input);
  if (!items) return items.error();
  return Value::list(std::move(*items));
}

Result<Value> filter_reverse(const Value& input, const Bound&) {
  if (const std::string* text = input.string()) return Value(python_substring(*text, std::nullopt, std::nullopt, -1));
  auto items = iterate(input);
  if (!items) return Error{"argument must be iterable"};
  std::reverse(items->begin(), items->end());
  // Python's reversed() gives an iterator; a generator, which it cannot reverse, is listed and reversed instead.
  const Sequence* sequence = input.sequence();
  if (sequence && sequence->kind == Sequence::Kind::kIterator) return Value::list(std::move(*items));
  return iterator(std::move(*items));
}

Result<Value> filter_items(const Value& input, const Bound&) {
  if (input.is_undefined()) return iterator({});
  const Mapping* mapping = input.mapping();
  if (!mapping) return Error{"Can only get item pairs from a mapping."};
  std::vector<Value> pairs;
  for (const auto& [key, value] : mapping->entries) {
    pairs.push_back(Value::list({Value(key), value}, Sequence::Kind::kTuple));
  }
  return iterator(std::move(pairs));
}

Result<Value> filter_join(const Value& input, const Bound& arguments) {
  auto items = iterate(input);
  if (!items) return items.error();
  const std::string separator = arguments[0] ? python_str(*arguments[0]) : "";
  std::string out;
  for (size_t i = 0; i < items->size(); ++i) {
    Value item = (*items)[i];
    if (arguments[1] && !arguments[1]->is_none()) {
      auto picked = attribute_path(item, *arguments[1], std::nullopt);
      if (!picked) return picked.error();
      item = *picked;
    }
    if (i > 0) out += separator;
    out += python_str(item);
  }
  return Value(out);
}

Result<Value> filter_replace(const Value& input, const Bound& arguments) {
  if (!arguments[0] || !arguments[1]) return Error{"filter 'replace' takes the old and the new text"};
  auto count = integer_argument(arguments[2], "count", -1);
  if (!count) return count.error();
  return Value(python_replace(python_str(input), python_str(*arguments[0]), python_str(*arguments[1]), *count));
}

Result<Value> filter_indent(const Value& input, const Bound& arguments) {
  if (input.is_undefined()) return undefined_error(input);
  const std::string* text = input.string();
  if (!text) return Error{"filter 'indent' takes a str, not " + type_name(input)};
  std::string indentation(4, ' ');
  if (arguments[0]) {
    if (const std::string* given = arguments[0]->string()) {
      indentation = *given;
    } else if (auto width = arguments[0]->integer()) {
      indentation.assign(static_cast<size_t>(std::max<int64_t>(*width, 0)), ' ');
    } else {
      return Error{"filter 'indent' takes a width as int or str"};
    }
  }
  const std::vector<std::string> lines = python_splitlines(*text + "\n");
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) out += '\n';
    const bool indented = i > 0 && (flag_argument(arguments[2], false) || !lines[i].empty());
    out += (indented ? indentation : "") + lines[i];
  }
  return Value(flag_argument(arguments[1], false) ? indentation + out : out);
}

Result<Value> filter_tojson(const Value& input, const Bound& arguments) {
  JsonFormat format;
  format.ensure_ascii = flag_argument(arguments[0], false);
  if (arguments[1] && !arguments[1]->is_none()) {
    if (const std::string* given = arguments[1]->string()) {
      format.indent = *given;
    } else if (auto width = arguments[1]->integer()) {
      format.indent = std::string(static_cast<size_t>(std::max<int64_t>(*width, 0)), ' ');
    } else {
      return Error{"tojson's indent must be an int or a str"};
    }
    format.item_separator = ",";
  }
  if (arguments[2] && !arguments[2]->is_none()) {
    const Sequence* separators = arguments[2]->sequence();
    if (!separators || separators->items.size() != 2 || !separators->items[0].is_string() ||
        !separators->items[1].is_string()) {
      return Error{"tojson's separators must be two strings"};
    }
    format.item_separator = *separators->items[0].string();
    format.key_separator = *separators->items[1].string();
  }
  format.sort_keys = flag_argument(arguments[3], false);
  auto text = python_json(input, format);
  if (!text) return text.error();
  return Value(std::move(*text));
}

struct FilterSpec {
  std::string_view name;
  std::vector<std::string_view> parameters;
  Filter filter;
};

// Filters with fixed parameters; map, select and their kin take a filter's or test's own arguments after theirs.
const FilterSpec kFilters[] = {
    {"abs", {}, filter_abs},
    {"capitalize", {}, filter_capitalize},
    {"count", {}, filter_length},
    {"d", {"default_value", "boolean"}, filter_default},
    {"default", {"default_value", "boolean"}, filter_default},
    {"first", {}, filter_first},
    {"float", {"default"}, filter_float},
    {"indent", {"width", "first", "blank"}, filter_indent},
    {"int", {"default", "base"}, filter_int},
    {"items", {}, filter_items},
    {"join", {"d", "attribute"}, filter_join},
    {"last", {}, filter_last},
    {"length", {}, filter_length},
    {"list", {}, filter_list},
    {"lower", {}, filter_lower},
    {"replace", {"old", "new", "count"}, filter_replace},
    {"reverse", {}, filter_reverse},
    {"safe", {}, filter_string},
    {"string", {}, filter_string},
    {"title", {}, filter_title},
    {"tojson", {"ensure_ascii", "indent", "separators", "sort_keys"}, filter_tojson},
    {"trim", {"chars"}, filter_trim},
    {"upper", {}, filter_upper},
};

// map(attribute='a', default=x) or map('filter', filter arguments...).
Result<Value> filter_map(const Value& input, const CallArguments& arguments) {
  if (!truthy(input)) return iterator({});
  auto items = iterate(input);
  if (!items) return items.error();
  std::vector<Value> out;
  if (arguments.positional.empty()) {
    std::optional<Value> attribute, fallback;
    for (const auto& [keyword, value] : arguments.keyword) {
      if (keyword == "attribute") {
        attribute = value;
      } else if (keyword == "default") {
        fallback = value;
      } else {
        return Error{"filter 'map' got an unexpected keyword argument '" + keyword + "'"};
      }
    }
    if (!attribute) return Error{"filter 'map' requires a filter name or attribute="};
    for (const Value& item : *items) {
      auto picked = attribute_path(item, *attribute, fallback);
      if (!picked) return picked.error();
      out.push_back(std::move(*picked));
    }
    return iterator(std::move(out));
  }
  const std::string* name = arguments.positional[0].string();
  if (!name) return Error{"filter 'map' takes a filter name as str"};
  const CallArguments rest{{arguments.positional.begin() + 1, arguments.positional.end()}, arguments.keyword};
  for (const Value& item : *items) {
    auto mapped = apply_filter(*name, item, rest);
    if (!mapped) return mapped.error();
    out.push_back(std::move(*mapped));
  }
  return iterator(std::move(out));
}

// select/reject('test', test arguments...) and selectattr/rejectattr('attribute', 'test', test arguments...);
// without a test, an item's truth.
Result<Value> filter_select(const Value& input, const CallArguments& arguments, bool keep_passing, bool by_attribute) {
  if (!truthy(input)) return iterator({});
  auto items = iterate(input);
  if (!items) return items.error();
  const size_t offset = by_attribute ? 1 : 0;
  if (by_attribute && arguments.positional.empty()) return Error{"Missing parameter for attribute name"};
  const std::string* test = nullptr;
  if (arguments.positional.size() > offset) {
    test = arguments.positional[offset].string();
    if (!test) return Error{"a test name must be a str"};
  }
  const CallArguments test_arguments{
      {arguments.positional.begin() + static_cast<std::ptrdiff_t>(std::min(arguments.positional.size(), offset + 1)),
       arguments.positional.end()},
      arguments.keyword};
  std::vector<Value> out;
  for (const Value& item : *items) {
    Value tested = item;
    if (by_attribute) {
      auto picked = attribute_path(item, arguments.positional[0], std::nullopt);
      if (!picked) return picked.error();
      tested = *picked;
    }
    bool passed = truthy(tested);
    if (test) {
      auto result = apply_test(*test, tested, test_arguments);
      if (!result) return result.error();
      passed = *result;
    }
    if (passed == keep_passing) out.push_back(item);
  }
  return iterator(std::move(out));
}

const FilterSpec* find_filter(std::string_view name) {
  const auto found =
      std::find_if(std::begin(kFilters), std::end(kFilters), [&](const FilterSpec& spec) { return spec.name == name; });
  return found == std::end(kFilters) ? nullptr : &*found;
}

bool is_select_filter(std::string_view name) {
  return name == "select" || name == "reject" || name == "selectattr" || name == "rejectattr";
}

}  // namespace

bool is_filter_name(std::string_view name) {
  return find_filter(name) != nullptr || name == "map" || is_select_filter(name);
}

Result<Value> apply_filter(std::string_view name, const Value& input, const CallArguments& arguments) {
  if (name == "map") return filter_map(input, arguments);
  if (is_select_filter(name)) {
    return filter_select(input, arguments, name.starts_with("select"), name.ends_with("attr"));
  }
  const FilterSpec* spec = find_filter(name);
  if (!spec) return Error{"no filter named '" + std::string(name) + "'"};
  auto bound = bind_arguments(arguments, spec->parameters, "filter '" + std::string(name) + "'");
  if (!bound) return bound.error();
  return spec->filter(input, *bound);
}

}  // namespace tpustack::inferd::jinja
