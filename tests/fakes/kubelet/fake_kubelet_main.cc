// fake-kubelet: serves kubelet.sock in a directory and prints what a device plugin registers and
// advertises, for trying tpu-device-plugin without a cluster.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "tests/fakes/kubelet/fake_kubelet.h"

int main(int argc, char** argv) {
  CLI::App app{"fake-kubelet: the kubelet's device-plugin side, for trying a plugin by hand"};
  std::string plugin_dir;
  app.add_option("--plugin-dir", plugin_dir, "directory for kubelet.sock and the plugin's socket")->required();
  CLI11_PARSE(app, argc, argv);

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  tpustack::fakes::FakeKubelet kubelet(plugin_dir);
  std::printf("serving %s; Ctrl-C to stop\n", kubelet.socket_path().c_str());
  int seen = 0;
  const timespec tick{0, 100'000'000};
  while (sigtimedwait(&signals, nullptr, &tick) < 0) {
    if (kubelet.device_updates() == seen) continue;
    seen = kubelet.device_updates();
    const auto reg = kubelet.last_registration();
    std::printf("%s via %s (registrations: %d), update %d:\n", reg.resource_name.c_str(), reg.endpoint.c_str(),
                kubelet.registrations(), seen);
    for (const auto& device : kubelet.devices()) {
      std::printf("  %-10s %s\n", device.id.c_str(), device.health.c_str());
    }
    std::fflush(stdout);
  }
  return 0;
}
