#include "deviceplugin/cli/plugin_settings.h"

#include <filesystem>

#include "common/config/duration.h"
#include "common/logging/logging.h"
#include "deviceplugin/discovery/simulated_host.h"

namespace tpustack::deviceplugin {
namespace {

bool inside(const std::string& path, const std::string& dir) {
  const auto relative =
      std::filesystem::path(path).lexically_normal().lexically_relative(std::filesystem::path(dir).lexically_normal());
  return !relative.empty() && *relative.begin() != "..";
}

std::chrono::nanoseconds positive_duration(const std::string& text, const std::string& what) {
  const auto d = config::parse_duration(text);
  if (d <= std::chrono::nanoseconds::zero())
    throw std::invalid_argument(what + " must be positive, got '" + text + "'");
  return d;
}

}  // namespace

const std::set<std::string>& config_keys() {
  static const std::set<std::string> keys = {
      "pluginDir",
      "kubeletSocket",
      "simulate",
      "sysfsRoot",
      "devRoot",
      "metricsAddr",
      "logLevel",
      "logFormat",
      "podResourcesSocket",
      "lockFile",
      "discoveryRetry",
      "node.accelerator",
      "node.topology",
      "node.chipsPerHost",
      "node.iciResiliency",
      "health.interval",
      "health.command",
      "health.commandTimeout",
      "kubeconfig",
      "simulateDeviceNodes",
  };
  return keys;
}

PluginSettings resolve_settings(const FlagValues& flags, const config::SettingResolver& resolver) {
  const config::ConfigDocument& config = resolver.config();
  config.reject_unknown_keys(config_keys());
  PluginSettings s;
  const std::string file = config.source();
  auto resolve = [&](const config::SettingNames& names, const auto& flag, auto& target) {
    if (auto found = resolver.find(names, flag)) target = std::move(found->value);
  };
  using Names = config::SettingNames;

  resolve(Names{"--plugin-dir", "pluginDir"}, flags.plugin_dir, s.registration.plugin_dir);
  resolve(Names{"--kubelet-socket", "kubeletSocket"}, flags.kubelet_socket, s.registration.kubelet_socket);
  const auto simulate = resolver.find(Names{"--simulate", "simulate"}, flags.simulate);
  resolve(Names{"--sysfs-root", "sysfsRoot"}, flags.sysfs_root, s.health.sysfs_root);
  resolve(Names{"--dev-root", "devRoot"}, flags.dev_root, s.health.dev_root);
  resolve(Names{"--metrics-addr", "metricsAddr"}, flags.metrics_addr, s.metrics_addr);
  resolve(Names{"--log-level", "logLevel"}, flags.log_level, s.log_level);
  if (const auto format = resolver.find(Names{"--log-format", "logFormat"}, flags.log_format)) {
    try {
      s.log_json = logging::parse_json_format(format->value);
    } catch (const std::invalid_argument& e) {
      throw config::ConfigError(format->origin + ": " + e.what());
    }
  }
  resolve(Names{"", "podResourcesSocket"}, std::optional<std::string>(), s.pod_resources_socket);
  resolve(Names{"--lock-file", "lockFile"}, flags.lock_file, s.lock_file);
  resolve(Names{"", "kubeconfig"}, std::optional<std::string>(), s.kubeconfig);
  resolve(Names{"", "simulateDeviceNodes"}, std::optional<bool>(), s.simulate_device_nodes);
  resolve(Names{"", "discoveryRetry"}, std::optional<std::chrono::nanoseconds>(), s.discovery_retry);
  const auto interval = flags.health_interval
                            ? std::optional(positive_duration(*flags.health_interval, "--health-interval"))
                            : std::nullopt;
  resolve(Names{"--health-interval", "health.interval"}, interval, s.health_interval);
  resolve(Names{"", "health.command"}, std::optional<std::string>(), s.health.command);
  if (const auto timeout = resolver.find<std::chrono::nanoseconds>(Names{"", "health.commandTimeout"})) {
    s.health.command_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(timeout->value);
  }
  // What the node is declared to be; the node's labels come below all of these, at start.
  s.node.accelerator =
      resolver.find(Names{"--accelerator", "node.accelerator", "TPUSTACK_ACCELERATOR"}, flags.accelerator);
  s.node.topology = resolver.find(Names{"--topology", "node.topology", "TPUSTACK_TOPOLOGY"}, flags.topology);
  s.node.chips_per_host =
      resolver.find(Names{"--chips-per-host", "node.chipsPerHost", "TPUSTACK_CHIPS_PER_HOST"}, flags.chips_per_host);
  if (s.node.chips_per_host && s.node.chips_per_host->value <= 0) {
    throw config::ConfigError(s.node.chips_per_host->origin + ": chips per host must be a positive number, got " +
                              std::to_string(s.node.chips_per_host->value));
  }
  if (const auto resilient = resolver.find<bool>(Names{"", "node.iciResiliency"})) {
    s.node.ici_resiliency_disabled = Declared<bool>{!resilient->value, resilient->origin};
  }

  if (s.health_interval <= std::chrono::nanoseconds::zero()) {
    throw config::ConfigError(file + ": health.interval must be positive");
  }
  if (s.registration.kubelet_socket.empty())
    s.registration.kubelet_socket = s.registration.plugin_dir + "/kubelet.sock";
  if (inside(s.lock_file, s.registration.plugin_dir)) {
    throw std::invalid_argument("lock file " + s.lock_file + " is inside the plugin directory " +
                                s.registration.plugin_dir +
                                ", whose files the kubelet deletes when it starts: a second plugin would lock a new "
                                "file and serve beside this one; use a path such as /run/tpu-device-plugin.lock");
  }
  if (simulate && simulate->value == "node") {
    s.simulate_node = true;
  } else if (simulate) {
    s.simulate = parse_simulate_spec(simulate->value);
  }
  s.health.check_hardware = !s.simulate && !s.simulate_node;
  return s;
}

}  // namespace tpustack::deviceplugin
