// tpu-device-plugin: advertises a node's TPU chips to the kubelet as google.com/tpu.
#include <cstdio>
#include <exception>
#include <string>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "common/logging/logging.h"
#include "common/topology/topology_error.h"
#include "deviceplugin/cli/host_description.h"
#include "deviceplugin/discovery/simulated_host.h"

int main(int argc, char** argv) {
  using namespace tpustack;
  CLI::App app{"tpu-device-plugin: advertises this node's TPU chips to the kubelet as google.com/tpu"};
  std::string simulate;
  std::string log_level = "info";
  bool describe = false;
  app.add_option("--simulate", simulate,
                 "Invent chips instead of reading sysfs: GEN:TOPOLOGY[:CHIPS_PER_HOST], e.g. v6e:4x4:4");
  app.add_flag("--describe", describe, "Print the chips and the libtpu environment each allocation gets, then exit");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error");
  CLI11_PARSE(app, argc, argv);

  try {
    logging::setup_logging({log_level, false}, "tpu-device-plugin");
    if (simulate.empty()) {
      spdlog::error("no chips to serve: give --simulate GEN:TOPOLOGY[:CHIPS_PER_HOST]");
      return 2;
    }
    const auto slice = deviceplugin::parse_simulate_spec(simulate);
    const auto chips = deviceplugin::simulated_chips(slice);
    if (describe) {
      std::fputs(deviceplugin::describe_host(slice, chips).c_str(), stdout);
      return 0;
    }
    spdlog::error("serving the kubelet device-plugin API is not built yet; use --describe");
    return 2;
  } catch (const topology::TopologyError& e) {
    spdlog::error("{}", e.what());
    return 2;
  } catch (const std::invalid_argument& e) {
    spdlog::error("{}", e.what());
    return 2;
  }
}
