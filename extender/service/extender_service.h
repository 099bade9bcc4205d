#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/metrics/metrics_registry.h"
#include "extender/model/cluster_state.h"
#include "extender/service/pod_binder.h"

namespace tpustack::extender {

// The extender's verbs over one ClusterState, fed by informers. Request bodies in, response bodies
// out, so it is tested without sockets; HTTP is a thin shell around it. Thread-safe.
class ExtenderService {
 public:
  ExtenderService(PodBinder& binder, metrics::MetricsRegistry& registry);

  // Informer events (Node and Pod objects as the API server sends them). Objects that cannot be read
  // are logged and skipped.
  void apply_node(const nlohmann::json& node);
  void delete_node(const nlohmann::json& node);
  void apply_pod(const nlohmann::json& pod);
  void delete_pod(const nlohmann::json& pod);

  // Until set, every verb answers an Error: placing pods before reservations are rebuilt from the
  // cluster could double-book a slice.
  void set_synced() { synced_ = true; }
  bool synced() const { return synced_; }

  struct Reply {
    int status = 200;
    std::string body;
  };
  Reply filter(std::string_view body);
  Reply prioritize(std::string_view body);
  Reply bind(std::string_view body);
  Reply preempt(std::string_view body);
  // The model as JSON: slices, their hosts' free chips and holders, and the groups.
  std::string debug_slices();
  // Groups placed/waiting and slices free/reserved, for /metrics.
  void refresh_gauges();

 private:
  std::string bind_pod(std::string_view body);
  void observe(const char* verb, const char* outcome, double seconds);

  PodBinder& binder_;
  std::mutex mu_;
  ClusterState state_;
  std::atomic<bool> synced_{false};
  metrics::Family<metrics::Counter>& requests_;
  metrics::Family<metrics::Histogram>& latency_;
  metrics::Family<metrics::Gauge>& groups_;
  metrics::Family<metrics::Gauge>& slices_;
};

}  // namespace tpustack::extender
