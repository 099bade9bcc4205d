#include "extender/provisioner/lease_elector.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/kube/event.h"

namespace tpustack::provisioning {
using nlohmann::json;

std::string micro_time(std::chrono::system_clock::time_point t) {
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count() % 1000000;
  std::string seconds = kube::rfc3339(t);  // "...:SSZ"
  return seconds.substr(0, seconds.size() - 1) + fmt::format(".{:06d}Z", micros);
}

LeaseElector::LeaseElector(kube::KubeClient& client, LeaseSettings settings)
    : client_(client), settings_(std::move(settings)) {}

LeaseAttempt LeaseElector::try_acquire_or_renew() {
  const auto now = std::chrono::system_clock::now();
  const auto steady_now = std::chrono::steady_clock::now();
  json spec = {{"holderIdentity", settings_.identity},
               {"leaseDurationSeconds", settings_.duration.count()},
               {"renewTime", micro_time(now)}};
  leading_ = false;
  // A conflict means another replica wrote the lease first: it leads, nothing is wrong.
  const auto refused = [](const Error& error) -> LeaseAttempt {
    if (kube::conflict(error)) return {LeaseOutcome::kHeldByAnother, "another replica, which wrote it first"};
    return {LeaseOutcome::kFailed, error.message};
  };
  auto lease = client_.get(kube::resources::kLeases, settings_.ns, settings_.name);
  if (!lease && !kube::not_found(lease.error())) return refused(lease.error());
  if (!lease) {
    spec["acquireTime"] = micro_time(now);
    spec["leaseTransitions"] = 0;
    auto created = client_.create(kube::resources::kLeases, settings_.ns,
                                  {{"apiVersion", "coordination.k8s.io/v1"},
                                   {"kind", "Lease"},
                                   {"metadata", {{"name", settings_.name}, {"namespace", settings_.ns}}},
                                   {"spec", spec}});
    if (!created) return refused(created.error());
    observed_at_ = steady_now;
    leading_ = true;
    spdlog::info("leader election: {} created lease {}/{}", settings_.identity, settings_.ns, settings_.name);
    return {LeaseOutcome::kLeading, settings_.identity};
  }
  const json current = lease->value("spec", json::object());
  const std::string holder = current.value("holderIdentity", "");
  const std::string record = holder + "@" + current.value("renewTime", "");
  if (record != observed_record_) {
    observed_record_ = record;
    observed_at_ = steady_now;
  }
  const bool mine = holder == settings_.identity;
  const bool expired = holder.empty() || steady_now - observed_at_ >= settings_.duration;
  if (!mine && !expired) return {LeaseOutcome::kHeldByAnother, holder};
  spec["acquireTime"] = mine ? current.value("acquireTime", micro_time(now)) : micro_time(now);
  spec["leaseTransitions"] = current.value("leaseTransitions", 0) + (mine ? 0 : 1);
  (*lease)["spec"] = spec;
  auto written = client_.replace(kube::resources::kLeases, settings_.ns, settings_.name, *lease);
  if (!written) return refused(written.error());
  observed_record_ = settings_.identity + "@" + written->value("spec", json::object()).value("renewTime", "");
  observed_at_ = steady_now;
  if (!mine) spdlog::info("leader election: {} took lease over from '{}'", settings_.identity, holder);
  leading_ = true;
  return {LeaseOutcome::kLeading, settings_.identity};
}

void LeaseElector::release() {
  if (!leading_) return;
  leading_ = false;
  auto lease = client_.get(kube::resources::kLeases, settings_.ns, settings_.name);
  if (lease && lease->value("spec", json::object()).value("holderIdentity", "") != settings_.identity) return;
  if (lease) {
    (*lease)["spec"]["holderIdentity"] = "";
    if (auto written = client_.replace(kube::resources::kLeases, settings_.ns, settings_.name, *lease); !written) {
      lease = written.error();
    }
  }
  if (!lease) spdlog::warn("leader election: releasing the lease: {}", lease.error().message);
}

}  // namespace tpustack::provisioning
