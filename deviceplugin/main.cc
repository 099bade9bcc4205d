// tpu-device-plugin: advertises a node's TPU chips to the kubelet as google.com/tpu.
#include <cstdio>
#include <exception>
#include <string>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "common/cli/command_line.h"
#include "common/config/config_document.h"
#include "common/logging/logging.h"
#include "deviceplugin/cli/host_description.h"
#include "deviceplugin/cli/plugin_settings.h"
#include "deviceplugin/cli/serve.h"
#include "deviceplugin/discovery/simulated_host.h"

int main(int argc, char** argv) {
  using namespace tpustack;
  using namespace tpustack::deviceplugin;
  CLI::App app{"tpu-device-plugin: advertises this node's TPU chips to the kubelet as google.com/tpu",
               "tpu-device-plugin"};
  FlagValues flags;
  std::string config_file;
  bool describe = false;
  app.add_option("--config", config_file, "YAML config file; flags override its keys");
  app.add_option("--plugin-dir", flags.plugin_dir, "kubelet device-plugin directory (/var/lib/kubelet/device-plugins)");
  app.add_option("--kubelet-socket", flags.kubelet_socket, "kubelet registration socket (<plugin-dir>/kubelet.sock)");
  app.add_option("--simulate", flags.simulate,
                 "Invent chips instead of reading sysfs: GEN:TOPOLOGY[:CHIPS_PER_HOST], e.g. v6e:4x4:4, or "
                 "'node' for the shape the node's labels declare");
  app.add_option("--sysfs-root", flags.sysfs_root, "where sysfs is mounted (/sys)");
  app.add_option("--dev-root", flags.dev_root, "where the host's /dev is mounted (/dev)");
  app.add_option("--health-interval", flags.health_interval, "time between health checks, e.g. 1s, 500ms (1s)");
  app.add_option("--metrics-addr", flags.metrics_addr, "HOST:PORT for /metrics and /healthz (0.0.0.0:2112)");
  app.add_option("--log-level", flags.log_level, "trace, debug, info, warn, error (info)");
  app.add_option("--log-format", flags.log_format, "text, or json for one JSON object per line (text)");
  app.add_option("--lock-file", flags.lock_file,
                 "one-instance lock, outside the plugin directory (/run/tpu-device-plugin.lock)");
  app.add_option("--accelerator", flags.accelerator, "this node's TPU generation or accelerator label value");
  app.add_option("--topology", flags.topology, "the slice topology this node belongs to, e.g. 4x4");
  app.add_option("--chips-per-host", flags.chips_per_host, "TPU chips this node must have");
  app.add_flag("--describe", describe, "Print the chips and the libtpu environment each allocation gets, then exit");
  if (auto code = cli::parse_command_line(app, argc, argv)) return *code;

  try {
    // Errors in the flags or config file are logged to stderr like everything else.
    (void)logging::setup_logging({}, "tpu-device-plugin");  // the defaults always parse
    const auto config = config_file.empty() ? Result<config::ConfigDocument>(config::ConfigDocument{})
                                            : config::ConfigDocument::load_file(config_file);
    if (!config) {
      spdlog::error("{}", config.error().message);
      return 2;
    }
    const auto resolved = resolve_settings(flags, config::SettingResolver(*config));
    if (!resolved) {
      spdlog::error("{}", resolved.error().message);
      return 2;
    }
    const PluginSettings& settings = *resolved;
    if (auto logged = logging::setup_logging({settings.log_level, settings.log_json}, "tpu-device-plugin"); !logged) {
      spdlog::error("{}", logged.error().message);
      return 2;
    }
    if (describe) {
      if (!settings.simulate) {  // `--simulate node` needs the labels, which --describe does not read
        spdlog::error("--describe needs --simulate GEN:TOPOLOGY[:CHIPS_PER_HOST]");
        return 2;
      }
      std::fputs(describe_host(*settings.simulate, simulated_chips(*settings.simulate)).c_str(), stdout);
      return 0;
    }
    return serve(settings);
  } catch (const std::exception& e) {
    // Bad flags, config or simulate spec: say what was wrong and exit non-zero without a crash.
    spdlog::error("{}", e.what());
    return 2;
  }
}
