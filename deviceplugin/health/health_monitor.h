#pragma once

#include "deviceplugin/health/chip_checks.h"
#include "deviceplugin/server/device_state.h"
#include "deviceplugin/server/plugin_metrics.h"

namespace tpustack::deviceplugin {

// Checks every chip and applies the result to DeviceState both ways: a failing chip turns
// Unhealthy, a passing one turns Healthy again. Each change is one log line and one count.
class HealthMonitor {
 public:
  HealthMonitor(DeviceState& state, HealthCheckSettings settings, PluginMetrics& metrics);
  void check_all();

 private:
  DeviceState& state_;
  HealthCheckSettings settings_;
  PluginMetrics& metrics_;
};

}  // namespace tpustack::deviceplugin
