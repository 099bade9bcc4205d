#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "inferd/server/input_limits.h"
#include "inferd/server/request_error.h"

// The body of an inference request (TEI, OpenAI and Termite alike) and the fields each route reads of it: the bytes
// from the network are read here and nowhere else (tests/fuzz/inferd_request_fuzz.cc fuzzes them).
namespace inferd::server {

// The body as a JSON object, or why not: size, UTF-8 and syntax are checked in that order.
std::variant<nlohmann::json, RequestError> parse_body(std::string_view body, const InputLimits& limits);

// "text" or ["a", "b"] under `field`.
std::variant<std::vector<std::string>, RequestError> string_list(const nlohmann::json& body, const char* field);

// `field` when it is a string.
std::optional<std::string> optional_string(const nlohmann::json& body, const char* field);

// `field` when it is a boolean, else `fallback`.
bool flag(const nlohmann::json& body, const char* field, bool fallback);

}  // namespace inferd::server
