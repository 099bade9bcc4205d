#include "inferd/engine/pjrt/plugin_call.h"

#include <array>
#include <string>

#include <spdlog/spdlog.h>

#include "inferd/engine/pjrt/pjrt_c_api.h"

namespace tpustack::inferd::engine::pjrt {

namespace {

std::string_view code_name(PJRT_Error_Code code) {
  static constexpr std::array<std::string_view, 17> names = {
      "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
      "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
      "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
      "DATA_LOSS", "UNAUTHENTICATED"};
  const auto index = static_cast<size_t>(code);
  return index < names.size() ? names[index] : "an unknown code";
}

void destroy_error(const PJRT_Api& api, PJRT_Error* error) {
  PJRT_Error_Destroy_Args destroy{};
  destroy.struct_size = PJRT_Error_Destroy_Args_STRUCT_SIZE;
  destroy.error = error;
  api.PJRT_Error_Destroy(&destroy);
}

}  // namespace

Error take_error(const PJRT_Api& api, PJRT_Error* error, std::string_view call) {
  PJRT_Error_Message_Args message{};
  message.struct_size = PJRT_Error_Message_Args_STRUCT_SIZE;
  message.error = error;
  api.PJRT_Error_Message(&message);
  std::string text = std::string(call) + " failed: " + std::string(message.message, message.message_size);

  PJRT_Error_GetCode_Args code{};
  code.struct_size = PJRT_Error_GetCode_Args_STRUCT_SIZE;
  code.error = error;
  if (PJRT_Error* code_error = api.PJRT_Error_GetCode(&code); code_error == nullptr) {
    text += " (code " + std::to_string(code.code) + " " + std::string(code_name(code.code)) + ")";
  } else {
    destroy_error(api, code_error);
  }
  destroy_error(api, error);
  return Error{std::move(text), ErrorKind::kFailedPrecondition};
}

void log_error(const PJRT_Api& api, PJRT_Error* error, std::string_view call) {
  if (error != nullptr) spdlog::warn("{}", take_error(api, error, call).message);
}

Result<void> await_event(const PJRT_Api& api, PJRT_Event* event, std::string_view call) {
  if (event == nullptr) return {};
  PJRT_Event_Await_Args await{};
  await.struct_size = PJRT_Event_Await_Args_STRUCT_SIZE;
  await.event = event;
  PJRT_Error* failure = api.PJRT_Event_Await(&await);

  PJRT_Event_Destroy_Args destroy{};
  destroy.struct_size = PJRT_Event_Destroy_Args_STRUCT_SIZE;
  destroy.event = event;
  log_error(api, api.PJRT_Event_Destroy(&destroy), "PJRT_Event_Destroy");

  if (failure != nullptr) return take_error(api, failure, call);
  return {};
}

}  // namespace tpustack::inferd::engine::pjrt
