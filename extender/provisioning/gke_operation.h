#pragma once

#include <optional>

#include <nlohmann/json.hpp>

#include "extender/provisioning/provider_error.h"

namespace tpustack::provisioning {

// A container v1 Operation is finished once its status is DONE (completed or cancelled); PENDING, RUNNING
// and ABORTING are still going.
bool operation_finished(const nlohmann::json& operation);

// Why a finished operation failed: its `error` {code, message} (a cancelled one is CANCELLED, retried soon),
// else a non-empty `statusMessage` (the older field that carries the error's text); nullopt when it succeeded.
std::optional<Error> operation_failure(const nlohmann::json& operation);

}  // namespace tpustack::provisioning
