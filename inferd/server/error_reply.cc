#include "inferd/server/error_reply.h"

#include <nlohmann/json.hpp>

namespace tpustack::inferd::server {

namespace {

using nlohmann::json;

// OpenAI's error types: its SDKs pick the exception class from the status, people read the type.
const char* openai_type(int status) {
  if (status == 429) return "rate_limit_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

json openai_code(const RequestError& error) {
  if (error.status == 404 && error.param == "model") return "model_not_found";
  if (error.status == 429) return "rate_limit_exceeded";
  return nullptr;
}

}  // namespace

ErrorShape shape_of(const std::string& path) {
  return path.starts_with("/v1/")    ? ErrorShape::openai
         : path.starts_with("/api/") ? ErrorShape::termite
                                     : ErrorShape::tei;
}

ErrorBody error_body(const RequestError& error, ErrorShape shape) {
  json body;
  if (shape == ErrorShape::openai) {
    body = {{"error",
             {{"message", error.message},
              {"type", openai_type(error.status)},
              {"param", error.param.empty() ? json(nullptr) : json(error.param)},
              {"code", openai_code(error)}}}};
  } else if (shape == ErrorShape::termite) {
    body = {{"error", error.message}};
  } else {
    body = {{"error", error.message}, {"error_type", error.type}};
  }
  ErrorBody reply{error.status, body.dump(), {}};
  if (error.status == 429 || error.status == 503) reply.headers.push_back({"Retry-After", "1"});
  return reply;
}

}  // namespace tpustack::inferd::server
