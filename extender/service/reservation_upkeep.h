#pragma once

#include <chrono>
#include <thread>

#include "common/kube/kube_client.h"
#include "extender/service/extender_service.h"

namespace tpustack::extender {

// Carries out ExtenderService::upkeep() every `period`: updates the waiting pods whose answer changed
// (annotation tpustack.dev/nudge) so that kube-scheduler retries them at once instead of at its next
// flush, and records the Events of released reservations. The decisions are the service's.
class ReservationUpkeep {
 public:
  ReservationUpkeep(ExtenderService& service, kube::KubeClient& client, std::chrono::nanoseconds group_timeout,
                    std::chrono::milliseconds period = std::chrono::milliseconds(200));
  void start();
  void stop();

 private:
  void run_once();

  ExtenderService& service_;
  kube::KubeClient& client_;
  std::chrono::nanoseconds group_timeout_;
  std::chrono::milliseconds period_;
  std::uint64_t nudges_ = 0;
  std::jthread thread_;
};

}  // namespace tpustack::extender
