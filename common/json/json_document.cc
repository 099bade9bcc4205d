#include "common/json/json_document.h"

namespace tpustack::json {

std::string json_value_error(const std::string& source, const nlohmann::json::exception& error) {
  // nlohmann says "[json.exception.type_error.302] type must be string, but is number".
  std::string_view reason = error.what();
  if (auto bracket = reason.find("] "); reason.starts_with("[json.exception.") && bracket != std::string_view::npos) {
    reason.remove_prefix(bracket + 2);
  }
  return source + ": " + std::string(reason);
}

}  // namespace tpustack::json
