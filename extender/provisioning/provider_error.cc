#include "extender/provisioning/provider_error.h"

#include <algorithm>
#include <cctype>

namespace tpustack::provisioning {
namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

bool contains(const std::string& text, const char* needle) { return text.find(needle) != std::string::npos; }

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

FailureKind classify_failure(int http_status, const std::string& rpc_status, const std::string& message) {
  std::string text = lower(message);
  // 429 says "concurrent operations quota": a limit on operations, not on capacity, so check it first.
  if (http_status == 0 || http_status == 429 || http_status >= 500) return FailureKind::kTransient;
  if (contains(text, "incompatible operation") || contains(text, "too many operations")) return FailureKind::kTransient;
  if (rpc_status == "UNAVAILABLE" || rpc_status == "DEADLINE_EXCEEDED" || rpc_status == "ABORTED" ||
      rpc_status == "INTERNAL") {
    return FailureKind::kTransient;
  }
  if (contains(text, "stockout") || contains(text, "resource_pool_exhausted") ||
      contains(text, "does not have enough resources") || contains(text, "quota") ||
      rpc_status == "RESOURCE_EXHAUSTED") {
    return FailureKind::kCapacity;
  }
  return FailureKind::kPermanent;
}

ProviderError::ProviderError(int http_status, std::string rpc_status, const std::string& message)
    : std::runtime_error(message),
      http_status_(http_status),
      rpc_status_(std::move(rpc_status)),
      kind_(classify_failure(http_status_, rpc_status_, message)) {}

}  // namespace tpustack::provisioning
