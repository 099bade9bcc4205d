// deviceplugin_bench: the device plugin's latency figures over its real unix socket, against the
// fake kubelet, with a no-op RPC on the same socket as the baseline.
//   Allocate / GetPreferredAllocation p50 and p99 (target: Allocate p99 <= 1 ms)
//   kubelet restart -> re-registered (target <= 1 s)
//   device node removed -> Unhealthy on ListAndWatch (target <= 1 health interval)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "common/cli/command_line.h"
#include "deviceplugin/discovery/simulated_host.h"
#include "deviceplugin/discovery/sysfs_chips.h"
#include "deviceplugin/health/health_monitor.h"
#include "deviceplugin/server/ticker.h"
#include "tests/deviceplugin/fake_tpu_host.h"
#include "tests/deviceplugin/running_plugin.h"
#include "tests/fakes/kubelet/fake_kubelet.h"

namespace {

using namespace tpustack;
using namespace tpustack::deviceplugin;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

double micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

struct Summary {
  double p50 = 0, p99 = 0, max = 0;
};

Summary summarize(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  const auto at = [&](double q) { return samples[static_cast<size_t>(q * static_cast<double>(samples.size() - 1))]; };
  return {at(0.50), at(0.99), samples.back()};
}

Summary time_calls(int n, const std::function<void()>& call) {
  for (int i = 0; i < n / 10; ++i) call();  // warm-up: connections, allocator, caches
  std::vector<double> samples;
  samples.reserve(n);
  for (int i = 0; i < n; ++i) {
    const auto start = Clock::now();
    call();
    samples.push_back(micros(Clock::now() - start));
  }
  return summarize(std::move(samples));
}

void print_row(const char* what, const Summary& s, const char* unit, double scale) {
  std::printf("  %-44s p50 %9.1f %s   p99 %9.1f %s   max %9.1f %s\n", what, s.p50 / scale, unit, s.p99 / scale, unit,
              s.max / scale, unit);
}

void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "deviceplugin_bench: %s\n", what);
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("tpu-device-plugin's latency over its unix socket against the fake kubelet", "deviceplugin_bench");
  int calls = 5000;
  app.add_option("calls", calls, "calls of each RPC")->check(CLI::PositiveNumber);
  if (auto code = tpustack::cli::parse_command_line(app, argc, argv)) return *code;
  spdlog::set_level(spdlog::level::err);  // one line per Allocate would time the log, not the plugin
  char dir_template[] = "/tmp/tpubenchXXXXXX";
  const std::string dir = ::mkdtemp(dir_template);

  std::printf("tpu-device-plugin over its unix socket, fake kubelet client, %d calls each (v5e 2x4, 8 chips)\n", calls);
  {
    fakes::FakeKubelet kubelet(dir + "/plugins");
    deviceplugin::testing::RunningPlugin plugin(dir + "/plugins",
                                                deviceplugin::testing::simulated_inventory("v5e:2x4:8"));
    require(kubelet.wait_for_registrations(1, 30s), "plugin did not register");
    const std::vector<std::string> all = {"vfio0", "vfio1", "vfio2", "vfio3", "vfio4", "vfio5", "vfio6", "vfio7"};
    v1beta1::ContainerAllocateResponse response;
    std::vector<std::string> chosen;
    print_row("baseline: PreStartContainer (no-op RPC)", time_calls(calls, [&] { kubelet.pre_start({"vfio0"}); }), "us",
              1);
    print_row("Allocate, whole host (8 chips)", time_calls(calls, [&] { kubelet.allocate(all, &response); }), "us", 1);
    print_row("Allocate, 2 chips",
              time_calls(calls,
                         [&] {
                           kubelet.allocate({"vfio4", "vfio5"}, &response);
                         }),
              "us", 1);
    print_row("GetPreferredAllocation, 4 of 8, must-include",
              time_calls(calls, [&] { kubelet.preferred_allocation(all, {"vfio5"}, 4, &chosen); }), "us", 1);
    print_row("GetPreferredAllocation, 8 of 8",
              time_calls(calls, [&] { kubelet.preferred_allocation(all, {}, 8, &chosen); }), "us", 1);

    // Kubelet restart: sockets wiped, new kubelet.sock served; until the plugin registers again.
    std::vector<double> restarts;
    for (int i = 0; i < 20; ++i) {
      const int before = kubelet.registrations();
      const auto start = Clock::now();
      kubelet.restart();
      require(kubelet.wait_for_registrations(before + 1, 30s), "plugin did not re-register");
      restarts.push_back(micros(Clock::now() - start));
    }
    std::printf("\nkubelet restart -> plugin registered again (20 restarts; target <= 1 s)\n");
    print_row("re-registration", summarize(restarts), "ms", 1000);
  }

  {
    // Health: a device node disappears; until ListAndWatch carries Unhealthy (and back).
    const auto interval = 250ms;
    const auto host = deviceplugin::testing::write_fake_tpu_host(dir + "/host", topology::Generation::kV6e, 4);
    HostInventory inventory{parse_simulate_spec("v6e:4x4:4").value(),
                            scan_sysfs_chips(host.sysfs_root).value().chips,
                            std::vector<bool>(4, true),
                            {}};
    fakes::FakeKubelet kubelet(dir + "/plugins2");
    deviceplugin::testing::RunningPlugin plugin(dir + "/plugins2", std::move(inventory));
    HealthCheckSettings health;
    health.sysfs_root = host.sysfs_root;
    health.dev_root = host.dev_root;
    HealthMonitor monitor(plugin.state(), health, plugin.metrics());
    Ticker ticker(interval, [&] { monitor.check_all(); });
    require(kubelet.wait_for_devices([](const fakes::DeviceList& d) { return d.size() == 4; }, 30s), "no devices");
    std::vector<double> down, up;
    for (int i = 0; i < 8; ++i) {
      const auto node = host.dev_root + "/vfio/2";
      // Start at a random phase of the health tick, as a real failure would.
      std::this_thread::sleep_for(std::chrono::milliseconds(37 * i % 250));
      auto start = Clock::now();
      fs::rename(node, node + ".gone");
      require(kubelet.wait_for_devices([](const auto& d) { return fakes::health_of(d, "vfio2") == "Unhealthy"; }, 30s),
              "never Unhealthy");
      down.push_back(micros(Clock::now() - start));
      start = Clock::now();
      fs::rename(node + ".gone", node);
      require(kubelet.wait_for_devices([](const auto& d) { return fakes::health_of(d, "vfio2") == "Healthy"; }, 30s),
              "never Healthy again");
      up.push_back(micros(Clock::now() - start));
    }
    std::printf("\nhealth change -> ListAndWatch update (interval %lld ms, 8 trials; target <= 1 interval)\n",
                static_cast<long long>(interval.count()));
    print_row("device node removed -> Unhealthy", summarize(down), "ms", 1000);
    print_row("device node back -> Healthy", summarize(up), "ms", 1000);
  }
  fs::remove_all(dir);
  return 0;
}
