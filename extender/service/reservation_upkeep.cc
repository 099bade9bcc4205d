#include "extender/service/reservation_upkeep.h"

#include <spdlog/spdlog.h>

#include "common/lifecycle/interruptible_sleep.h"
#include "extender/model/kube_names.h"

namespace tpustack::extender {

namespace {

nlohmann::json pod_reference(const ExtenderService::PodRef& pod) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"namespace", pod.ns}, {"name", pod.name}, {"uid", pod.uid}}}};
}

}  // namespace

ReservationUpkeep::ReservationUpkeep(ExtenderService& service, kube::KubeClient& client,
                                     std::chrono::nanoseconds group_timeout, std::chrono::milliseconds period)
    : service_(service), client_(client), group_timeout_(group_timeout), period_(period) {}

void ReservationUpkeep::start() {
  thread_ = std::jthread([this](std::stop_token stop) {
    do {
      try {
        run_once();
      } catch (const std::exception& e) {
        spdlog::warn("reservation upkeep: {}", e.what());
      }
    } while (lifecycle::sleep_unless_stopped(stop, period_));
  });
}

void ReservationUpkeep::stop() { thread_ = {}; }

void ReservationUpkeep::run_once() {
  if (!service_.synced()) return;
  auto upkeep = service_.upkeep(std::chrono::steady_clock::now(), group_timeout_);
  for (const auto& notice : upkeep.notices) {
    spdlog::warn("{}: {}", notice.reason, notice.message);
    for (const auto& pod : notice.pods) {
      auto recorded = client_.create_event(pod_reference(pod),
                                           notice.warning ? kube::EventType::kWarning : kube::EventType::kNormal,
                                           notice.reason, notice.message);
      if (!recorded) {
        spdlog::warn("cannot record event {} on {}/{}: {}", notice.reason, pod.ns, pod.name, recorded.error().message);
      }
    }
  }
  for (const auto& line : upkeep.nudged) {
    spdlog::info("nudging {} pod(s) of {} for kube-scheduler to retry: {}", line.pods.size(), line.group, line.message);
  }
  for (const auto& pod : upkeep.nudge) {
    // Any change to a parked pod's metadata moves it back to kube-scheduler's active queue; the uid keeps a
    // patch from reaching a pod re-created under the same name.
    const nlohmann::json patch = {
        {"metadata",
         {{"uid", pod.uid}, {"annotations", {{std::string(names::kNudgeAnnotation), std::to_string(++nudges_)}}}}}};
    if (auto nudged = client_.patch(kube::resources::kPods, pod.ns, pod.name, patch, kube::PatchType::kMerge);
        !nudged) {
      spdlog::debug("cannot nudge {}/{}: {}", pod.ns, pod.name, nudged.error().message);
    }
  }
}

}  // namespace tpustack::extender
