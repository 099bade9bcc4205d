#include "deviceplugin/cli/plugin_settings.h"

#include <filesystem>

#include "common/config/duration.h"
#include "deviceplugin/discovery/simulated_host.h"

namespace tpustack::deviceplugin {
namespace {

template <class T>
void override_with(T& target, const std::optional<T>& value) {
  if (value) target = *value;
}

std::optional<Declared<std::string>> declared(const std::optional<std::string>& value, std::string origin) {
  if (!value) return std::nullopt;
  return Declared<std::string>{*value, std::move(origin)};
}

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

PluginSettings resolve_settings(const FlagValues& flags, const config::ConfigDocument& config) {
  config.reject_unknown_keys(config_keys());
  PluginSettings s;
  const std::string file = config.source();

  override_with(s.registration.plugin_dir, config.get_string("pluginDir"));
  override_with(s.registration.kubelet_socket, config.get_string("kubeletSocket"));
  std::optional<std::string> simulate = config.get_string("simulate");
  override_with(s.health.sysfs_root, config.get_string("sysfsRoot"));
  override_with(s.health.dev_root, config.get_string("devRoot"));
  override_with(s.metrics_addr, config.get_string("metricsAddr"));
  override_with(s.log_level, config.get_string("logLevel"));
  if (const auto format = config.get_string("logFormat")) {
    if (*format != "text" && *format != "json") {
      throw config::ConfigError(file + ": logFormat must be 'text' or 'json', got '" + *format + "'");
    }
    s.log_json = *format == "json";
  }
  override_with(s.pod_resources_socket, config.get_string("podResourcesSocket"));
  override_with(s.lock_file, config.get_string("lockFile"));
  override_with(s.kubeconfig, config.get_string("kubeconfig"));
  override_with(s.simulate_device_nodes, config.get_bool("simulateDeviceNodes"));
  override_with(s.discovery_retry, config.get_duration("discoveryRetry"));
  override_with(s.health_interval, config.get_duration("health.interval"));
  override_with(s.health.command, config.get_string("health.command"));
  if (const auto timeout = config.get_duration("health.commandTimeout")) {
    s.health.command_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(*timeout);
  }
  s.node.accelerator = declared(config.get_string("node.accelerator"), file + " node.accelerator");
  s.node.topology = declared(config.get_string("node.topology"), file + " node.topology");
  if (const auto chips = config.get_int("node.chipsPerHost")) {
    s.node.chips_per_host = Declared<int>{static_cast<int>(*chips), file + " node.chipsPerHost"};
  }
  if (const auto resilient = config.get_bool("node.iciResiliency")) {
    s.node.ici_resiliency_disabled = Declared<bool>{!*resilient, file + " node.iciResiliency"};
  }

  override_with(s.registration.plugin_dir, flags.plugin_dir);
  override_with(s.registration.kubelet_socket, flags.kubelet_socket);
  if (flags.simulate) simulate = flags.simulate;
  override_with(s.health.sysfs_root, flags.sysfs_root);
  override_with(s.health.dev_root, flags.dev_root);
  if (flags.health_interval) s.health_interval = positive_duration(*flags.health_interval, "--health-interval");
  override_with(s.metrics_addr, flags.metrics_addr);
  override_with(s.log_level, flags.log_level);
  override_with(s.lock_file, flags.lock_file);
  NodeFacts from_flags;
  from_flags.accelerator = declared(flags.accelerator, "--accelerator");
  from_flags.topology = declared(flags.topology, "--topology");
  if (flags.chips_per_host) from_flags.chips_per_host = Declared<int>{*flags.chips_per_host, "--chips-per-host"};
  s.node = overlay(from_flags, s.node);

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
  if (simulate == "node") {
    s.simulate_node = true;
  } else if (simulate) {
    s.simulate = parse_simulate_spec(*simulate);
  }
  s.health.check_hardware = !s.simulate && !s.simulate_node;
  return s;
}

}  // namespace tpustack::deviceplugin
