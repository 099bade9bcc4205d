#include "extender/provisioning/gke_operation.h"

#include <string>

namespace tpustack::provisioning {

bool operation_finished(const nlohmann::json& operation) { return operation.value("status", "") == "DONE"; }

std::optional<Error> operation_failure(const nlohmann::json& operation) {
  const std::string name = operation.value("name", "");
  const std::string status_message = operation.value("statusMessage", "");
  const nlohmann::json error = operation.value("error", nlohmann::json());
  if (error.is_object() && error.value("code", 0) != 0) {
    std::string message = error.value("message", "");
    if (message.empty()) message = status_message.empty() ? "no message" : status_message;
    return provider_error(200, rpc_status_name(error.value("code", 2)),
                          "GKE operation " + name + " failed: " + message);
  }
  if (!status_message.empty()) {
    return provider_error(200, "UNKNOWN", "GKE operation " + name + " failed: " + status_message);
  }
  return std::nullopt;
}

}  // namespace tpustack::provisioning
