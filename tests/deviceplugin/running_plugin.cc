#include "tests/deviceplugin/running_plugin.h"

#include "deviceplugin/discovery/simulated_host.h"
#include "tests/support/result_matchers.h"

namespace tpustack::deviceplugin::testing {
namespace {

using tpustack::testing::value_of;

RegistrationSettings quick_retries(const std::string& plugin_dir) {
  RegistrationSettings s;
  s.plugin_dir = plugin_dir;
  s.register_retry.initial = std::chrono::milliseconds(20);
  s.register_retry.max = std::chrono::milliseconds(200);
  return s;
}

}  // namespace

HostInventory simulated_inventory(const std::string& spec) {
  const auto slice = parse_simulate_spec(spec).value();
  auto chips = simulated_chips(slice);
  const auto n = chips.size();
  return {slice, std::move(chips), std::vector<bool>(n, true), {}};
}

RunningPlugin::RunningPlugin(const std::string& plugin_dir, HostInventory inventory)
    : state_(std::move(inventory)),
      metrics_(registry_),
      loop_(value_of(RegistrationLoop::open(quick_retries(plugin_dir), state_, metrics_))) {
  thread_ = std::thread([this] { loop_->run(); });
}

RunningPlugin::~RunningPlugin() {
  loop_->stop();
  thread_.join();
}

}  // namespace tpustack::deviceplugin::testing
