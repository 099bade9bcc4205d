#pragma once

#include <string>
#include <string_view>

#include "common/result/peer_answer.h"

namespace tpustack::kube {

// A failed API call as an Error: its peer holds the HTTP status (0 when no response arrived) and the Status reason
// ("NotFound", "AlreadyExists", "Expired", ...); the message says which call failed and what the API server said.
Error api_error(int http_status, std::string reason, std::string_view message);

// The error for a non-2xx reply: the Status object's reason and message when the body is one,
// otherwise the standard reason for the code and the start of the body.
Error error_from_response(int http_status, std::string_view body, std::string_view what);

// What the API server's answer was, for the callers that act on it.
inline bool not_found(const Error& error) { return peer_status(error) == 404; }
inline bool conflict(const Error& error) { return peer_status(error) == 409; }
inline bool already_exists(const Error& error) { return conflict(error) && peer_reason(error) == "AlreadyExists"; }
inline bool gone(const Error& error) { return peer_status(error) == 410; }

}  // namespace tpustack::kube
