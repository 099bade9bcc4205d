#include "deviceplugin/health/health_monitor.h"

#include <spdlog/spdlog.h>

namespace tpustack::deviceplugin {

HealthMonitor::HealthMonitor(DeviceState& state, HealthCheckSettings settings, PluginMetrics& metrics)
    : state_(state), settings_(std::move(settings)), metrics_(metrics) {}

void HealthMonitor::check_all() {
  const auto inventory = state_.snapshot();
  int healthy = 0;
  for (const auto& chip : inventory->chips) {
    const ChipCheck check = check_chip(chip, settings_);
    healthy += check.healthy ? 1 : 0;
    if (!state_.set_healthy(chip.index, check.healthy)) continue;
    const char* to = check.healthy ? "Healthy" : "Unhealthy";
    metrics_.health_transitions.labels({chip.id, to}).inc();
    if (check.healthy) {
      spdlog::info("chip {} (pci {}) is Healthy again", chip.id, chip.pci_address);
    } else {
      spdlog::warn("chip {} (pci {}) is Unhealthy: {}", chip.id, chip.pci_address, check.reason);
    }
  }
  metrics_.chips_healthy.set(healthy);
}

}  // namespace tpustack::deviceplugin
