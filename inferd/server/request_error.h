#pragma once

#include <string>

namespace inferd::server {

// Why a request was refused, in words for the client; `status` is the HTTP status, from which gRPC codes derive.
struct RequestError {
  int status = 400;
  std::string type;  // TEI's error_type: validation, overloaded, not_found, ...
  std::string message;
};

}  // namespace inferd::server
