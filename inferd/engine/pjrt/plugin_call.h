#pragma once

// What every call into a PJRT plugin needs afterwards (internal to inferd/engine/pjrt): its error as ours, and the
// wait on the event it returned.

#include <string_view>

#include "common/result/result.h"

struct PJRT_Api;
struct PJRT_Error;
struct PJRT_Event;

namespace tpustack::inferd::engine::pjrt {

// The plugin's error as ours, naming the call that failed ("PJRT_Client_Create failed: <message> (code 8
// RESOURCE_EXHAUSTED)"); frees the PJRT_Error, which the caller owns.
Error take_error(const PJRT_Api& api, PJRT_Error* error, std::string_view call);

// For calls whose failure nobody can act on (destroying what inferd no longer needs): logs it and frees it.
void log_error(const PJRT_Api& api, PJRT_Error* error, std::string_view call);

// Waits for `event` (none: nothing to wait for), then destroys it. Its error is named after `call`, the call that
// returned the event, since that is the work that failed.
Result<void> await_event(const PJRT_Api& api, PJRT_Event* event, std::string_view call);

}  // namespace tpustack::inferd::engine::pjrt
