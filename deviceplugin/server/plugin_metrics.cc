#include "deviceplugin/server/plugin_metrics.h"

namespace tpustack::deviceplugin {

PluginMetrics::PluginMetrics(metrics::MetricsRegistry& registry)
    : chips(registry.gauge("tpu_device_plugin_chips", "TPU chips found on this node").unlabelled()),
      chips_healthy(registry.gauge("tpu_device_plugin_chips_healthy", "TPU chips advertised as Healthy").unlabelled()),
      chips_allocated(registry
                          .gauge("tpu_device_plugin_chips_allocated",
                                 "TPU chips assigned to containers, per the kubelet's PodResources API")
                          .unlabelled()),
      registrations(registry.counter("tpu_device_plugin_registrations_total",
                                     "Register calls to the kubelet, by result", {"result"})),
      health_transitions(registry.counter("tpu_device_plugin_health_transitions_total",
                                          "Chip health changes, by device ID and new state", {"device", "to"})),
      rpc_errors(registry.counter("tpu_device_plugin_rpc_errors_total", "Refused device-plugin RPCs", {"rpc"})),
      allocate_seconds(registry
                           .histogram("tpu_device_plugin_allocate_seconds", "Time to answer Allocate", {},
                                      metrics::latency_buckets())
                           .unlabelled()),
      preferred_allocation_seconds(registry
                                       .histogram("tpu_device_plugin_preferred_allocation_seconds",
                                                  "Time to answer GetPreferredAllocation", {},
                                                  metrics::latency_buckets())
                                       .unlabelled()) {}

}  // namespace tpustack::deviceplugin
