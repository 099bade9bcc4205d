#include "inferd/server/request_body.h"

#include <algorithm>

namespace inferd::server {

using nlohmann::json;

std::variant<json, RequestError> parse_body(std::string_view body, const InputLimits& limits) {
  if (auto bad = check_body(body, limits)) return *bad;
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return RequestError{400, "validation", "the request body is not valid JSON"};
  if (!parsed.is_object()) return RequestError{400, "validation", "the request body must be a JSON object"};
  return parsed;
}

std::variant<std::vector<std::string>, RequestError> string_list(const json& body, const char* field) {
  if (!body.contains(field)) return RequestError{400, "validation", std::string("\"") + field + "\" is missing"};
  const json& value = body[field];
  if (value.is_string()) return std::vector<std::string>{value.get<std::string>()};
  if (value.is_array() && std::all_of(value.begin(), value.end(), [](const json& v) { return v.is_string(); })) {
    return value.get<std::vector<std::string>>();
  }
  return RequestError{400, "validation", std::string("\"") + field + "\" must be a string or an array of strings"};
}

std::optional<std::string> optional_string(const json& body, const char* field) {
  if (body.contains(field) && body[field].is_string()) return body[field].get<std::string>();
  return std::nullopt;
}

bool flag(const json& body, const char* field, bool fallback) {
  return body.contains(field) && body[field].is_boolean() ? body[field].get<bool>() : fallback;
}

}  // namespace inferd::server
