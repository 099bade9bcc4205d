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

Result<std::chrono::nanoseconds> positive_duration(const std::string& text, const std::string& what) {
  auto parsed = config::parse_duration(text);
  if (!parsed) return Error{what + ": " + parsed.error().message};
  const std::chrono::nanoseconds d = *parsed;
  if (d <= std::chrono::nanoseconds::zero()) return Error{what + " must be positive, got '" + text + "'"};
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

Result<PluginSettings> resolve_settings(const FlagValues& flags, const config::SettingResolver& resolver) {
  const config::ConfigDocument& config = resolver.config();
  if (auto known = config.reject_unknown_keys(config_keys()); !known) return known.error();
  PluginSettings s;
  const std::string file = config.source();
  std::optional<Error> failed;  // the first setting that could not be read
  // The setting's Declared value, or nullopt when no source has it or it could not be read (`failed`).
  auto find = [&]<class T>(const config::SettingNames& names, const std::optional<T>& flag) {
    auto found = resolver.find<T>(names, flag);
    if (found) return std::move(*found);
    if (!failed) failed = found.error();
    return std::optional<config::Declared<T>>();
  };
  auto resolve = [&](const config::SettingNames& names, const auto& flag, auto& target) {
    if (auto found = find(names, flag)) target = std::move(found->value);
  };
  using Names = config::SettingNames;

  resolve(Names{"--plugin-dir", "pluginDir"}, flags.plugin_dir, s.registration.plugin_dir);
  resolve(Names{"--kubelet-socket", "kubeletSocket"}, flags.kubelet_socket, s.registration.kubelet_socket);
  const auto simulate = find(Names{"--simulate", "simulate"}, flags.simulate);
  resolve(Names{"--sysfs-root", "sysfsRoot"}, flags.sysfs_root, s.health.sysfs_root);
  resolve(Names{"--dev-root", "devRoot"}, flags.dev_root, s.health.dev_root);
  resolve(Names{"--metrics-addr", "metricsAddr"}, flags.metrics_addr, s.metrics_addr);
  resolve(Names{"--log-level", "logLevel"}, flags.log_level, s.log_level);
  if (const auto format = find(Names{"--log-format", "logFormat"}, flags.log_format)) {
    auto json = logging::parse_json_format(format->value);
    if (!json) return Error{format->origin + ": " + json.error().message};
    s.log_json = *json;
  }
  resolve(Names{"", "podResourcesSocket"}, std::optional<std::string>(), s.pod_resources_socket);
  resolve(Names{"--lock-file", "lockFile"}, flags.lock_file, s.lock_file);
  resolve(Names{"", "kubeconfig"}, std::optional<std::string>(), s.kubeconfig);
  resolve(Names{"", "simulateDeviceNodes"}, std::optional<bool>(), s.simulate_device_nodes);
  resolve(Names{"", "discoveryRetry"}, std::optional<std::chrono::nanoseconds>(), s.discovery_retry);
  std::optional<std::chrono::nanoseconds> interval;
  if (flags.health_interval) {
    auto flag = positive_duration(*flags.health_interval, "--health-interval");
    if (!flag) return flag.error();
    interval = *flag;
  }
  resolve(Names{"--health-interval", "health.interval"}, interval, s.health_interval);
  resolve(Names{"", "health.command"}, std::optional<std::string>(), s.health.command);
  if (const auto timeout = find(Names{"", "health.commandTimeout"}, std::optional<std::chrono::nanoseconds>())) {
    s.health.command_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(timeout->value);
  }
  // What the node is declared to be; the node's labels come below all of these, at start.
  s.node.accelerator = find(Names{"--accelerator", "node.accelerator", "TPUSTACK_ACCELERATOR"}, flags.accelerator);
  s.node.topology = find(Names{"--topology", "node.topology", "TPUSTACK_TOPOLOGY"}, flags.topology);
  s.node.chips_per_host =
      find(Names{"--chips-per-host", "node.chipsPerHost", "TPUSTACK_CHIPS_PER_HOST"}, flags.chips_per_host);
  if (const auto resilient = find(Names{"", "node.iciResiliency"}, std::optional<bool>())) {
    s.node.ici_resiliency_disabled = Declared<bool>{!resilient->value, resilient->origin};
  }
  if (failed) return *failed;

  if (s.node.chips_per_host && s.node.chips_per_host->value <= 0) {
    return Error{s.node.chips_per_host->origin + ": chips per host must be a positive number, got " +
                 std::to_string(s.node.chips_per_host->value)};
  }
  if (s.health_interval <= std::chrono::nanoseconds::zero()) return Error{file + ": health.interval must be positive"};
  if (s.registration.kubelet_socket.empty())
    s.registration.kubelet_socket = s.registration.plugin_dir + "/kubelet.sock";
  if (inside(s.lock_file, s.registration.plugin_dir)) {
    return Error{"lock file " + s.lock_file + " is inside the plugin directory " + s.registration.plugin_dir +
                 ", whose files the kubelet deletes when it starts: a second plugin would lock a new "
                 "file and serve beside this one; use a path such as /run/tpu-device-plugin.lock"};
  }
  if (simulate && simulate->value == "node") {
    s.simulate_node = true;
  } else if (simulate) {
    auto slice = parse_simulate_spec(simulate->value);
    if (!slice) return slice.error();
    s.simulate = std::move(*slice);
  }
  s.health.check_hardware = !s.simulate && !s.simulate_node;
  return s;
}

}  // namespace tpustack::deviceplugin
