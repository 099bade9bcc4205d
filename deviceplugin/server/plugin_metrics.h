#pragma once

#include "common/metrics/metrics_registry.h"

namespace tpustack::deviceplugin {

// The device plugin's Prometheus metrics, registered once per program.
struct PluginMetrics {
  explicit PluginMetrics(metrics::MetricsRegistry& registry);

  metrics::Gauge& chips;
  metrics::Gauge& chips_healthy;
  metrics::Gauge& chips_allocated;                   // from the kubelet's PodResources API, when its socket is mounted
  metrics::Family<metrics::Counter>& registrations;  // label result: ok | failed
  metrics::Family<metrics::Counter>& health_transitions;  // labels device, to: Healthy | Unhealthy
  metrics::Family<metrics::Counter>& rpc_errors;          // label rpc
  metrics::Histogram& allocate_seconds;
  metrics::Histogram& preferred_allocation_seconds;
};

}  // namespace tpustack::deviceplugin
