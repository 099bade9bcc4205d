#pragma once

#include <string>
#include <utility>

#include "common/result/result.h"

namespace tpustack::inferd::server {

// Why a request was refused, in words for the client; `status` is the HTTP status, from which gRPC codes derive.
struct RequestError {
  RequestError() = default;
  RequestError(int status, std::string type, std::string message, std::string param = "")
      : status(status), type(std::move(type)), message(std::move(message)), param(std::move(param)) {}

  int status = 400;
  std::string type;  // TEI's error_type: validation, overloaded, not_found, ...
  std::string message;
  std::string param;  // the request field at fault, when one is (OpenAI's error names it)
};

}  // namespace tpustack::inferd::server
