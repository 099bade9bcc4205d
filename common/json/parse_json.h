#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result/result.h"

// JSON from the network, read with limits checked while it is read. nlohmann's parser itself is not
// recursive, but copying, comparing or dumping a value is: a body nested 100,000 deep would overflow the
// stack long after it was parsed. Here a document deeper than the limit stops the parser at the first
// container too many, so no deep value is ever built.
namespace tpustack::json {

struct JsonLimits {
  // Containers open at once; the document's own object or array is 1. Kubernetes objects with their
  // managedFields nest about 15 deep inside a request.
  int max_depth = 64;
};

// Parses `text`, a document called `what` in errors. A document that is not JSON or breaks a limit is an Error
// naming the document, e.g. "ExtenderArgs is not valid JSON: syntax error while parsing value - unexpected end of
// input; expected '[', '{', or a literal (byte 8)" or "ExtenderArgs is nested deeper than 64 levels"; the message
// is ASCII.
Result<nlohmann::json> parse_json(std::string_view text, std::string_view what, JsonLimits limits = {});

// object[key], or null where `object` is not an object or lacks the key (nlohmann's const operator[] requires it).
const nlohmann::json& member(const nlohmann::json& object, std::string_view key);

namespace detail {

// "<what> is not valid JSON: <nlohmann's reason> (byte N)", ASCII only.
std::string syntax_error_message(std::string_view what, std::size_t byte, const nlohmann::json::exception& error);
std::string depth_error_message(std::string_view what, int max_depth);

// Forwards nlohmann SAX events to `Sax` and stops the parser at a container nested deeper than allowed.
template <class Sax>
class DepthLimitedSax {
 public:
  using Json = nlohmann::json;

  DepthLimitedSax(Sax& inner, std::string_view what, int max_depth) : inner_(inner), what_(what), max_(max_depth) {}

  bool null() { return inner_.null(); }
  bool boolean(bool value) { return inner_.boolean(value); }
  bool number_integer(Json::number_integer_t value) { return inner_.number_integer(value); }
  bool number_unsigned(Json::number_unsigned_t value) { return inner_.number_unsigned(value); }
  bool number_float(Json::number_float_t value, const std::string& text) { return inner_.number_float(value, text); }
  bool string(std::string& value) { return inner_.string(value); }
  bool binary(Json::binary_t& value) { return inner_.binary(value); }
  bool key(std::string& name) { return inner_.key(name); }
  bool start_object(std::size_t size) { return deeper() && inner_.start_object(size); }
  bool start_array(std::size_t size) { return deeper() && inner_.start_array(size); }
  bool end_object() {
    --depth_;
    return inner_.end_object();
  }
  bool end_array() {
    --depth_;
    return inner_.end_array();
  }
  bool parse_error(std::size_t byte, const std::string&, const nlohmann::json::exception& error) {
    error_ = syntax_error_message(what_, byte, error);
    return false;
  }

  // Why parsing stopped, when it was the text's fault.
  const std::optional<std::string>& error() const { return error_; }

 private:
  bool deeper() {
    if (++depth_ <= max_) return true;
    error_ = depth_error_message(what_, max_);
    return false;
  }

  Sax& inner_;
  std::string_view what_;
  int max_;
  int depth_ = 0;
  std::optional<std::string> error_;
};

}  // namespace detail

// parse_json for a reader of one's own: `sax` gets nlohmann's SAX events (nlohmann::json_sax) for a document
// within the limits, and parsing stops at the first event that breaks them, with parse_json's Errors; a `sax`
// that returns false from an event of its own ends the parse with "<what> was not accepted".
template <class Sax>
Result<void> parse_json_sax(std::string_view text, std::string_view what, Sax& sax, JsonLimits limits = {}) {
  detail::DepthLimitedSax<Sax> limited(sax, what, limits.max_depth);
  if (nlohmann::json::sax_parse(text, &limited)) return {};
  if (limited.error()) return Error{*limited.error()};
  return Error{std::string(what) + " was not accepted"};
}

}  // namespace tpustack::json
