#pragma once

#include <optional>
#include <string>

#include "common/result/result.h"
#include "inferd/jinja/value.h"

// How Python writes values as text: what `{{ x }}` prints (str), how containers show their items (repr), and
// json.dumps as Hugging Face's `tojson` filter calls it.
namespace tpustack::inferd::jinja {

// Python's str(value); undefined prints as nothing.
std::string python_str(const Value& value);
// Python's repr(value): strings quoted and escaped as Python does.
std::string python_repr(const Value& value);
// Python's repr of a float: the shortest text that reads back the same number, "1.0", "1e-05", "1e+16", "inf".
std::string float_repr(double number);

// The arguments of json.dumps that `tojson` passes on.
struct JsonFormat {
  std::optional<std::string> indent;  // a newline and this per level between items; none: all on one line
  std::string item_separator = ", ";  // Python's default: ", " on one line, "," with an indent
  std::string key_separator = ": ";
  bool ensure_ascii = false;  // Hugging Face's default: non-ASCII text as it is
  bool sort_keys = false;
};

// json.dumps(value, ...): an Error for values JSON has no form for (undefined, namespaces, functions).
Result<std::string> python_json(const Value& value, const JsonFormat& format);

}  // namespace tpustack::inferd::jinja
