#pragma once

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/json/parse_json.h"
#include "common/result/result.h"

namespace tpustack::json {

// A value that read_json_document's `read` cannot use; it becomes the Error.
class JsonValueError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// "<source>: <what nlohmann says is wrong>", e.g. "config.json: type must be string, but is number".
std::string json_value_error(const std::string& source, const nlohmann::json::exception& error);

// A JSON file that comes with a model (config.json, tokenizer.json, a safetensors header) read by `read`, which
// takes the document and returns Result<T>. The document is parsed within JsonLimits, and `read`
// may use nlohmann's typed accessors: text that is not JSON, nests too deep, or has a value of a type `read` does
// not expect becomes an Error naming `source`, never an exception.
template <class T, class Read>
Result<T> read_json_document(std::string_view text, const std::string& source, Read read) {
  auto document = parse_json(text, source);
  if (!document) return document.error();
  // `read` may use nlohmann's typed accessors, whose exceptions are converted here, where the document is read.
  try {
    return read(*document);
  } catch (const nlohmann::json::exception& e) {
    return Error{json_value_error(source, e)};
  } catch (const JsonValueError& e) {
    return Error{source + ": " + e.what()};
  }
}

// `value` as an integer in [min, max]. Throws JsonValueError naming `what` otherwise: nlohmann's own conversion
// casts whatever number it holds, which for a float out of range is undefined behaviour.
template <class Int>
Int json_integer(const nlohmann::json& value, std::string_view what, Int min = std::numeric_limits<Int>::min(),
                 Int max = std::numeric_limits<Int>::max()) {
  const auto within = [&](auto number) {
    return std::cmp_greater_equal(number, min) && std::cmp_less_equal(number, max);
  };
  // nlohmann keeps a non-negative integer as unsigned and a negative one as signed; each is compared as itself.
  if (value.is_number_unsigned()) {
    if (within(value.get<std::uint64_t>())) return static_cast<Int>(value.get<std::uint64_t>());
  } else if (value.is_number_integer()) {
    if (within(value.get<std::int64_t>())) return static_cast<Int>(value.get<std::int64_t>());
  }
  throw JsonValueError(std::string(what) + " must be an integer from " + std::to_string(min) + " to " +
                       std::to_string(max));
}

// object[key] as json_integer reads it, or `fallback` where the key is absent or null.
template <class Int>
Int json_integer_member(const nlohmann::json& object, std::string_view key, Int fallback,
                        Int min = std::numeric_limits<Int>::min(), Int max = std::numeric_limits<Int>::max()) {
  const nlohmann::json& value = member(object, key);
  return value.is_null() ? fallback : json_integer<Int>(value, key, min, max);
}

}  // namespace tpustack::json
