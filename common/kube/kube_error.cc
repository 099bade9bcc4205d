#include "common/kube/kube_error.h"

#include <nlohmann/json.hpp>

namespace tpustack::kube {
namespace {

std::string describe(int code, const std::string& reason, const std::string& message) {
  std::string text = code == 0 ? "kube API unreachable" : "kube API error " + std::to_string(code);
  if (!reason.empty()) text += " " + reason;
  return text + ": " + message;
}

// Reasons as the API server names them (k8s.io/apimachinery metav1.StatusReason).
std::string reason_for_code(int code) {
  switch (code) {
    case 400:
      return "BadRequest";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "NotFound";
    case 405:
      return "MethodNotAllowed";
    case 409:
      return "Conflict";
    case 410:
      return "Expired";
    case 415:
      return "UnsupportedMediaType";
    case 422:
      return "Invalid";
    case 429:
      return "TooManyRequests";
    case 500:
      return "InternalError";
    case 503:
      return "ServiceUnavailable";
    case 504:
      return "Timeout";
    default:
      return "Unknown";
  }
}

}  // namespace

Error api_error(int http_status, std::string reason, std::string_view message) {
  std::string text = describe(http_status, reason, std::string(message));
  return Error{std::move(text), ErrorKind::kFailedPrecondition, PeerAnswer{http_status, std::move(reason)}};
}

Error error_from_response(int http_status, std::string_view body, std::string_view what) {
  auto status = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (status.is_object() && status.value("kind", "") == "Status") {
    std::string reason = status.value("reason", "");
    std::string message = status.value("message", "");
    return api_error(http_status, reason.empty() ? reason_for_code(http_status) : reason,
                     message.empty() ? std::string(what) : message);
  }
  constexpr std::size_t kBodyShown = 200;
  std::string excerpt(body.substr(0, kBodyShown));
  std::string message = std::string(what) + ": " + (excerpt.empty() ? "empty response body" : excerpt);
  return api_error(http_status, reason_for_code(http_status), message);
}

}  // namespace tpustack::kube
