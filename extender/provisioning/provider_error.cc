#include "extender/provisioning/provider_error.h"

#include <algorithm>
#include <cctype>
#include <iterator>

namespace tpustack::provisioning {
namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

bool contains(const std::string& text, const char* needle) { return text.find(needle) != std::string::npos; }

// GKE runs one operation per cluster at a time and refuses others with 400 FAILED_PRECONDITION:
// "Operation operation-... is currently deleting a node pool for cluster X. Please wait and try again once it
// is done.", "... is currently upgrading cluster X ...", "Cluster is currently being created, deleted, updated
// or repaired and cannot be updated.", and, older, "Cluster is running incompatible operation ...".
bool cluster_busy(const std::string& lower_text) {
  return contains(lower_text, "incompatible operation") || contains(lower_text, "please wait and try again") ||
         contains(lower_text, "is currently being") || contains(lower_text, "too many operations") ||
         (contains(lower_text, "operation operation-") && contains(lower_text, " is currently "));
}

}  // namespace

std::string to_string(FailureKind kind) {
  switch (kind) {
    case FailureKind::kTransient:
      return "transient";
    case FailureKind::kCapacity:
      return "capacity";
    case FailureKind::kPermanent:
      return "permanent";
  }
  return "permanent";
}

std::string rpc_status_name(int code) {
  static constexpr const char* kNames[] = {
      "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
      "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
      "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
      "DATA_LOSS", "UNAUTHENTICATED"};
  return code >= 0 && code < static_cast<int>(std::size(kNames)) ? kNames[code] : "UNKNOWN";
}

FailureKind classify_failure(int http_status, const std::string& rpc_status, const std::string& message) {
  std::string text = lower(message);
  // 429 says "concurrent operations quota": a limit on operations, not on capacity, so check it first.
  if (http_status == 0 || http_status == 429 || http_status >= 500) return FailureKind::kTransient;
  if (cluster_busy(text)) return FailureKind::kTransient;
  // A cancelled operation (by an operator, or GKE for an upgrade) and a refused token say nothing about the request.
  if (rpc_status == "UNAVAILABLE" || rpc_status == "DEADLINE_EXCEEDED" || rpc_status == "ABORTED" ||
      rpc_status == "INTERNAL" || rpc_status == "CANCELLED" || rpc_status == "UNAUTHENTICATED" || http_status == 401) {
    return FailureKind::kTransient;
  }
  if (contains(text, "stockout") || contains(text, "resource_pool_exhausted") ||
      contains(text, "does not have enough resources") || contains(text, "quota") ||
      rpc_status == "RESOURCE_EXHAUSTED") {
    return FailureKind::kCapacity;
  }
  return FailureKind::kPermanent;
}

Error provider_error(int http_status, std::string rpc_status, std::string message) {
  return Error{std::move(message), ErrorKind::kFailedPrecondition, PeerAnswer{http_status, std::move(rpc_status)}};
}

FailureKind failure_kind(const Error& error) {
  // No peer is kPermanent, not classify_failure(0, ...) (which reads "no answer" as transient).
  if (!error.peer) return FailureKind::kPermanent;
  return classify_failure(peer_status(error), std::string(peer_reason(error)), error.message);
}

}  // namespace tpustack::provisioning
