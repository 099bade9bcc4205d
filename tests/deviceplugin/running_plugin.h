#pragma once

#include <memory>
#include <string>
#include <thread>

#include "common/metrics/metrics_registry.h"
#include "deviceplugin/server/device_state.h"
#include "deviceplugin/server/plugin_metrics.h"
#include "deviceplugin/server/registration_loop.h"

namespace tpustack::deviceplugin::testing {

// All chips of one simulated host ("v5e:2x4:8"), healthy.
HostInventory simulated_inventory(const std::string& spec);

// The plugin's serving half (state + registration loop) on its own thread, in this process, with
// short retries; stopped and joined on destruction.
class RunningPlugin {
 public:
  RunningPlugin(const std::string& plugin_dir, HostInventory inventory);
  ~RunningPlugin();
  RunningPlugin(const RunningPlugin&) = delete;
  RunningPlugin& operator=(const RunningPlugin&) = delete;

  DeviceState& state() { return state_; }
  PluginMetrics& metrics() { return metrics_; }
  RegistrationLoop& loop() { return *loop_; }

 private:
  DeviceState state_;
  metrics::MetricsRegistry registry_;
  PluginMetrics metrics_;
  std::unique_ptr<RegistrationLoop> loop_;
  std::thread thread_;
};

}  // namespace tpustack::deviceplugin::testing
