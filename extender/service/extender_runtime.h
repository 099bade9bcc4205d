#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/kube/cluster_config.h"
#include "common/kube/informer.h"
#include "common/kube/kube_client.h"
#include "common/metrics/metrics_registry.h"
#include "common/metrics/metrics_server.h"
#include "common/result/result.h"
#include "extender/placement/bind_admission.h"
#include "extender/service/extender_http_server.h"
#include "extender/service/extender_service.h"
#include "extender/service/kube_pod_binder.h"
#include "extender/service/reservation_upkeep.h"
#include "extender/service/shared_reservations.h"

namespace tpustack::extender {

struct ServeOptions {
  VerbsListenerOptions verbs;
  std::string metrics_addr = ":8080";
  // A group that reserved a slice but has not fully arrived within this is released (zero: never).
  std::chrono::nanoseconds group_timeout = std::chrono::minutes(10);
  // The kube-scheduler profiles whose pods the extender binds and preempts for (spec.schedulerName).
  SchedulerNames scheduler_names = {"tpu-scheduler"};
  // Where the reservations every replica shares live (ConfigMap tpu-extender-reservations).
  std::string reservations_namespace = "default";
};

// `tpu-extender serve` put together: Node and Pod informers feeding the service, the reservations shared
// with the other replicas (and their informer), the verbs' HTTP listener, and /metrics. The verbs answer an
// Error until the three informers have listed, so reservations are rebuilt from the cluster before the first
// placement.
class ExtenderRuntime {
 public:
  // Why a controller running beside the verbs is not ready (the provisioner cannot take its Lease);
  // nullopt when it is.
  using ReadinessCheck = std::function<std::optional<std::string>()>;

  ExtenderRuntime(kube::ClusterConfig cluster, ServeOptions options);
  ~ExtenderRuntime();

  // An Error when a listener cannot bind; nothing is started then.
  Result<void> start();
  void stop();
  bool synced() const { return service_.synced(); }
  // The verbs' bound port (after start) and their open connections.
  int verbs_port() const { return http_.port(); }
  std::size_t verbs_connections() const { return http_.connections(); }
  ExtenderService& service() { return service_; }
  // For controllers that run beside the verbs (the provisioner): the same API client and /metrics.
  kube::KubeClient& client() { return client_; }
  metrics::MetricsRegistry& registry() { return registry_; }
  // /readyz on the metrics address answers 503 with the check's reason while it gives one (/readyz/verbs
  // there, which the Deployment probes, and the verbs' own /readyz keep to the caches, so a provisioner
  // problem never cuts the scheduler off). nullptr removes it, waiting for a /readyz that is calling it.
  void set_readiness_check(ReadinessCheck check);

 private:
  metrics::MetricsServer::Reply readiness() const;

  mutable std::mutex readiness_mu_;
  ReadinessCheck readiness_check_;
  metrics::MetricsRegistry registry_;
  kube::KubeClient client_;
  KubePodBinder binder_;
  ExtenderService service_;
  kube::Informer nodes_;
  kube::Informer pods_;
  SharedReservations ledger_;
  kube::Informer ledger_informer_;
  ExtenderHttpServer http_;
  metrics::MetricsServer metrics_server_;
  ReservationUpkeep upkeep_;
  std::jthread sync_waiter_;
};

}  // namespace tpustack::extender
