#include "inferd/server/request_body.h"

#include <algorithm>
#include <cstdint>

namespace tpustack::inferd::server {

using nlohmann::json;

Result<json, RequestError> parse_body(std::string_view body, const InputLimits& limits) {
  if (auto bad = check_body(body, limits); !bad) return bad.error();
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return RequestError{400, "validation", "the request body is not valid JSON"};
  if (!parsed.is_object()) return RequestError{400, "validation", "the request body must be a JSON object"};
  return parsed;
}

Result<std::vector<std::string>, RequestError> string_list(const json& body, const char* field) {
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

namespace {

RequestError wrong_inputs(const char* field, const char* expected) {
  return {422, "validation", std::string("\"") + field + "\" must be " + expected, field};
}

bool is_token_ids(const json& value) {
  return value.is_array() && !value.empty() &&
         std::all_of(value.begin(), value.end(), [](const json& v) { return v.is_number_integer(); });
}

std::vector<int32_t> token_ids(const json& value) {
  std::vector<int32_t> ids;
  for (const json& v : value) {
    const int64_t id = v.get<int64_t>();
    // Out of int32's range is out of every vocabulary: -1 makes the service refuse it by value.
    ids.push_back(id < 0 || id > INT32_MAX ? -1 : static_cast<int32_t>(id));
  }
  return ids;
}

bool is_text_or_pair(const json& value) {
  return value.is_string() || (value.is_array() && value.size() == 2 && value[0].is_string() && value[1].is_string());
}

std::vector<std::string> sequence_of(const json& value) {
  return value.is_string() ? std::vector<std::string>{value.get<std::string>()} : value.get<std::vector<std::string>>();
}

}  // namespace

Result<EmbeddingInputs, RequestError> embedding_inputs(const json& body, const char* field) {
  if (!body.contains(field)) return RequestError{400, "validation", std::string("\"") + field + "\" is missing", field};
  const json& value = body[field];
  EmbeddingInputs inputs;
  if (is_token_ids(value)) {
    inputs.token_ids.push_back(token_ids(value));
  } else if (value.is_array() && !value.empty() && std::all_of(value.begin(), value.end(), is_token_ids)) {
    for (const json& ids : value) inputs.token_ids.push_back(token_ids(ids));
  } else {
    auto texts = string_list(body, field);
    if (!texts) {
      return wrong_inputs(field, "a string, an array of strings, an array of token ids or an array of those");
    }
    inputs.texts = std::move(texts).value();
  }
  return inputs;
}

Result<PredictInputs, RequestError> predict_inputs(const json& body, const char* field) {
  if (!body.contains(field)) return RequestError{400, "validation", std::string("\"") + field + "\" is missing", field};
  const json& value = body[field];
  // ["a", "b"] is one pair, as TEI reads it; a list of anything else is a batch.
  if (is_text_or_pair(value)) return PredictInputs{{sequence_of(value)}, false};
  if (value.is_array() && std::all_of(value.begin(), value.end(), is_text_or_pair)) {
    PredictInputs inputs{{}, true};
    for (const json& sequence : value) inputs.sequences.push_back(sequence_of(sequence));
    return inputs;
  }
  return wrong_inputs(field, "a string, a pair of strings, or an array of strings and pairs");
}

const json* OptionReader::typed(const char* field, bool (json::*is)() const noexcept, const char* what) {
  if (!body_.contains(field) || body_[field].is_null()) return nullptr;
  const json& value = body_[field];
  if ((value.*is)()) return &value;
  if (!error_) error_ = RequestError{422, "validation", std::string("\"") + field + "\" must be " + what, field};
  return nullptr;
}

bool OptionReader::boolean(const char* field, bool fallback) {
  const json* value = typed(field, &json::is_boolean, "true or false");
  return value ? value->get<bool>() : fallback;
}

std::optional<std::string> OptionReader::text(const char* field) {
  const json* value = typed(field, &json::is_string, "a string");
  return value ? std::optional(value->get<std::string>()) : std::nullopt;
}

std::optional<size_t> OptionReader::count(const char* field) {
  const json* value = typed(field, &json::is_number_integer, "a non-negative integer");
  if (value && value->get<int64_t>() >= 0) return value->get<size_t>();
  if (value && !error_) {
    error_ = RequestError{422, "validation", std::string("\"") + field + "\" must be a non-negative integer", field};
  }
  return std::nullopt;
}

std::optional<double> OptionReader::number(const char* field) {
  const json* value = typed(field, &json::is_number, "a number");
  return value ? std::optional(value->get<double>()) : std::nullopt;
}

std::optional<int64_t> OptionReader::integer(const char* field) {
  const json* value = typed(field, &json::is_number_integer, "an integer");
  return value ? std::optional(value->get<int64_t>()) : std::nullopt;
}

}  // namespace tpustack::inferd::server
