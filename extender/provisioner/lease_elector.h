#pragma once

#include <chrono>
#include <string>

#include "common/kube/kube_client.h"

namespace tpustack::provisioning {

struct LeaseSettings {
  std::string ns = "kube-system";
  std::string name = "tpu-extender-provisioner";
  std::string identity;  // unique per replica: the pod name
  std::chrono::seconds duration{15};
};

// What one try for the Lease found.
enum class LeaseOutcome {
  kLeading,
  kHeldByAnother,  // a live replica holds it, or won a race for it
  kFailed,         // the API refused or did not answer: 404 (no such namespace), 403 (RBAC), ...
};

struct LeaseAttempt {
  LeaseOutcome outcome = LeaseOutcome::kFailed;
  std::string detail;  // kHeldByAnother: who holds it; kFailed: the API's code, reason and message

  bool leading() const { return outcome == LeaseOutcome::kLeading; }
};

// Leader election on a coordination.k8s.io/v1 Lease, as client-go does it: the holder renews
// renewTime; another replica takes over once the record has not changed for `duration` by its own
// clock (never by comparing clocks across machines). Writes use the Lease's resourceVersion, so two
// replicas racing for it cannot both win.
class LeaseElector {
 public:
  LeaseElector(kube::KubeClient& client, LeaseSettings settings);

  // Acquires or renews the lease; API errors count as not leading.
  LeaseAttempt try_acquire_or_renew();
  // Gives the lease up so that another replica need not wait for it to expire.
  void release();

 private:
  kube::KubeClient& client_;
  LeaseSettings settings_;
  std::string observed_record_;  // holder + renewTime last seen
  std::chrono::steady_clock::time_point observed_at_{};
  bool leading_ = false;
};

// "2024-05-01T12:00:00.123456Z", metav1.MicroTime as the API server stores it.
std::string micro_time(std::chrono::system_clock::time_point t);

}  // namespace tpustack::provisioning
