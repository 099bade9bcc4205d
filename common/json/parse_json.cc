#include "common/json/parse_json.h"

namespace tpustack::json {

namespace detail {

std::string syntax_error_message(std::string_view what, std::size_t byte, const nlohmann::json::exception& error) {
  // nlohmann says "[json.exception.parse_error.101] parse error at line 1, column 8: <reason>".
  std::string_view reason = error.what();
  if (auto column = reason.find("column "); column != std::string_view::npos) {
    if (auto colon = reason.find(": ", column); colon != std::string_view::npos) reason.remove_prefix(colon + 2);
  }
  std::string message = std::string(what) + " is not valid JSON: ";
  // The reason quotes the bytes last read, which need not be UTF-8; the message goes into JSON replies.
  for (char c : reason) message += static_cast<unsigned char>(c) < 0x80 ? c : '?';
  return message + " (byte " + std::to_string(byte) + ")";
}

std::string depth_error_message(std::string_view what, int max_depth) {
  return std::string(what) + " is nested deeper than " + std::to_string(max_depth) + " levels";
}

}  // namespace detail

Result<nlohmann::json> parse_json(std::string_view text, std::string_view what, JsonLimits limits) {
  nlohmann::json document;
  nlohmann::detail::json_sax_dom_parser<nlohmann::json> builder(document, false);
  if (auto parsed = parse_json_sax(text, what, builder, limits); !parsed) return parsed.error();
  return document;
}

const nlohmann::json& member(const nlohmann::json& object, std::string_view key) {
  static const nlohmann::json absent;
  if (!object.is_object()) return absent;
  auto found = object.find(key);
  return found == object.end() ? absent : *found;
}

}  // namespace tpustack::json
