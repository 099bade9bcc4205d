#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "common/kube/cluster_config.h"
#include "common/kube/informer.h"
#include "common/kube/kube_client.h"
#include "common/metrics/metrics_registry.h"
#include "common/metrics/metrics_server.h"
#include "extender/service/extender_http_server.h"
#include "extender/service/extender_service.h"
#include "extender/service/kube_pod_binder.h"

namespace tpustack::extender {

struct ServeOptions {
  std::string listen = ":8888";
  std::string metrics_addr = ":8080";
};

// `tpu-extender serve` put together: Node and Pod informers feeding the service, the verbs' HTTP
// listener, and /metrics. The verbs answer an Error until both informers have listed, so reservations
// are rebuilt from the cluster before the first placement.
class ExtenderRuntime {
 public:
  ExtenderRuntime(kube::ClusterConfig cluster, ServeOptions options);
  ~ExtenderRuntime();

  // Throws std::runtime_error when a listener cannot bind.
  void start();
  void stop();
  bool synced() const { return service_.synced(); }
  ExtenderService& service() { return service_; }
  // For controllers that run beside the verbs (the provisioner): the same API client and /metrics.
  kube::KubeClient& client() { return client_; }
  metrics::MetricsRegistry& registry() { return registry_; }

 private:
  metrics::MetricsRegistry registry_;
  kube::KubeClient client_;
  KubePodBinder binder_;
  ExtenderService service_;
  kube::Informer nodes_;
  kube::Informer pods_;
  ExtenderHttpServer http_;
  metrics::MetricsServer metrics_server_;
  std::jthread sync_waiter_;
};

}  // namespace tpustack::extender
