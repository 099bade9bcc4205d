#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "common/config/setting_resolver.h"
#include "deviceplugin/discovery/node_facts.h"
#include "deviceplugin/health/chip_checks.h"
#include "deviceplugin/server/registration_loop.h"

namespace tpustack::deviceplugin {

// What the command line said; unset flags leave the config file's value (or the default) alone.
struct FlagValues {
  std::optional<std::string> plugin_dir;
  std::optional<std::string> kubelet_socket;
  std::optional<std::string> simulate;
  std::optional<std::string> sysfs_root;
  std::optional<std::string> dev_root;
  std::optional<std::string> health_interval;
  std::optional<std::string> metrics_addr;
  std::optional<std::string> log_level;
  std::optional<std::string> log_format;
  std::optional<std::string> lock_file;
  std::optional<std::string> accelerator;
  std::optional<std::string> topology;
  std::optional<int> chips_per_host;
};

// Everything the plugin runs with.
struct PluginSettings {
  RegistrationSettings registration;
  std::optional<topology::SliceSpec> simulate;
  bool simulate_node = false;          // --simulate node: invent the chips the node facts declare
  bool simulate_device_nodes = false;  // hand out simulated /dev paths (only where they exist)  // from
                                       // GEN:TOPOLOGY[:CHIPS_PER_HOST]; empty = real chips from sysfs
  HealthCheckSettings health;
  std::chrono::nanoseconds health_interval = std::chrono::seconds(1);
  std::string metrics_addr = "0.0.0.0:2112";  // empty: no HTTP endpoint
  std::string log_level = "info";
  bool log_json = false;
  std::string pod_resources_socket = "/var/lib/kubelet/pod-resources/kubelet.sock";
  // The one-instance lock. Never inside the plugin directory: the kubelet deletes every file there
  // when it starts, and the directory itself may be deleted and made anew.
  std::string lock_file = "/run/tpu-device-plugin.lock";
  std::chrono::nanoseconds discovery_retry = std::chrono::seconds(5);
  NodeFacts node;          // from flags, the config file and the environment; node labels are added at start
  std::string kubeconfig;  // for reading NODE_NAME's labels; empty: $KUBECONFIG, else in-cluster
};

// Every key the YAML config accepts; README's table lists the same.
const std::set<std::string>& config_keys();

// Flags over the config file over the environment (the node facts' TPUSTACK_ACCELERATOR, TPUSTACK_TOPOLOGY,
// TPUSTACK_CHIPS_PER_HOST) over defaults. An Error names what to fix: file:line:key, the variable or the flag
// of a bad value, or a lock file inside the plugin directory.
Result<PluginSettings> resolve_settings(const FlagValues& flags, const config::SettingResolver& resolver);

}  // namespace tpustack::deviceplugin
