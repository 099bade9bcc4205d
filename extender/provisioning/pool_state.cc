#include "extender/provisioning/pool_state.h"

#include <array>
#include <utility>

namespace tpustack::provisioning {
namespace {

constexpr std::array<std::pair<PoolStatus, std::string_view>, 6> kWords = {{
    {PoolStatus::kProvisioning, "PROVISIONING"},
    {PoolStatus::kRunning, "RUNNING"},
    {PoolStatus::kRunningWithError, "RUNNING_WITH_ERROR"},
    {PoolStatus::kReconciling, "RECONCILING"},
    {PoolStatus::kStopping, "STOPPING"},
    {PoolStatus::kError, "ERROR"},
}};

}  // namespace

std::string_view to_string(PoolStatus status) {
  for (const auto& [known, word] : kWords) {
    if (known == status) return word;
  }
  return "STATUS_UNSPECIFIED";
}

PoolStatus parse_pool_status(std::string_view gke_word) {
  for (const auto& [status, word] : kWords) {
    if (word == gke_word) return status;
  }
  return PoolStatus::kUnknown;
}

}  // namespace tpustack::provisioning
