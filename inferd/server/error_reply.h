#pragma once

#include <string>
#include <utility>
#include <vector>

#include "inferd/server/request_error.h"

namespace tpustack::inferd::server {

// The error formats of the APIs inferd speaks: TEI's {error, error_type}, OpenAI's
// {"error": {message, type, param, code}}, Termite's {error}.
enum class ErrorShape { tei, openai, termite };

// The shape of the API `path` belongs to: /v1/... is OpenAI's, /api/... Termite's, the rest TEI's.
ErrorShape shape_of(const std::string& path);

struct ErrorBody {
  int status = 500;
  std::string json;
  std::vector<std::pair<std::string, std::string>> headers;  // Retry-After on 429 and 503
};

ErrorBody error_body(const RequestError& error, ErrorShape shape);

}  // namespace tpustack::inferd::server
