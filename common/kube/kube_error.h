#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace tpustack::kube {

// A failed API call: the HTTP status (0 when no response arrived), the Status reason
// ("NotFound", "AlreadyExists", "Expired", ...) and the message the API server gave.
class KubeError : public std::runtime_error {
 public:
  KubeError(int code, std::string reason, std::string message);

  int code() const { return code_; }
  const std::string& reason() const { return reason_; }
  const std::string& message() const { return message_; }

  bool not_found() const { return code_ == 404; }
  bool already_exists() const { return code_ == 409 && reason_ == "AlreadyExists"; }
  bool conflict() const { return code_ == 409; }
  bool gone() const { return code_ == 410; }

 private:
  int code_;
  std::string reason_;
  std::string message_;
};

// The error for a non-2xx reply: the Status object's reason and message when the body is one,
// otherwise the standard reason for the code and the start of the body.
KubeError error_from_response(int http_status, std::string_view body, std::string_view what);

}  // namespace tpustack::kube
