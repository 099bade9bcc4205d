#pragma once

#include <string>
#include <string_view>

#include "common/result/peer_answer.h"

namespace tpustack::provisioning {

// How a failed pool operation is retried.
enum class FailureKind {
  kTransient,  // the cluster is busy (400 FAILED_PRECONDITION while another operation runs), 429, 5xx,
               // timeouts, no answer, a cancelled operation, a refused token: back off and retry soon
  kCapacity,   // stockout or quota: tell the pod's owner, retry much later
  kPermanent,  // the request itself is wrong (bad policy name, permission): tell, retry rarely
};

std::string to_string(FailureKind kind);

// The google.rpc.Code name of a number, as Operation.error.code carries it (1 → "CANCELLED").
std::string rpc_status_name(int code);

// From the HTTP status (0: no answer or timeout), the google.rpc status name ("RESOURCE_EXHAUSTED")
// and the message of a GKE reply or of a finished operation's `error`.
FailureKind classify_failure(int http_status, const std::string& rpc_status, const std::string& message);

// A pool operation that did not succeed: the message a user needs to act on it, and what the provider answered
// (the HTTP status, 0 for no answer, and the google.rpc status name) in its peer.
Error provider_error(int http_status, std::string rpc_status, std::string message);

// How `error` is retried, by classify_failure() of its peer's answer; an Error without one is kPermanent.
FailureKind failure_kind(const Error& error);

}  // namespace tpustack::provisioning
