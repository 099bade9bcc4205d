#include "deviceplugin/cli/serve.h"

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "common/lifecycle/shutdown_signals.h"
#include "common/metrics/metrics_server.h"
#include "deviceplugin/discovery/node_labels.h"
#include "deviceplugin/discovery/simulated_host.h"
#include "deviceplugin/discovery/sysfs_chips.h"
#include "deviceplugin/health/health_monitor.h"
#include "deviceplugin/server/allocated_chips.h"
#include "deviceplugin/server/instance_lock.h"
#include "deviceplugin/server/ticker.h"

namespace tpustack::deviceplugin {
namespace {

using namespace std::chrono_literals;

// What /healthz says: 200 while registered with the kubelet, 503 with the reason otherwise.
class Readiness {
 public:
  void set(std::string status) {
    std::lock_guard lock(mu_);
    status_ = std::move(status);
  }
  metrics::MetricsServer::Reply reply(const RegistrationLoop* loop) const {
    if (loop && loop->registered()) return {200, "ok: registered with the kubelet\n"};
    if (loop && loop->serving()) return {503, "serving, not registered: waiting for the kubelet\n"};
    std::lock_guard lock(mu_);
    return {503, status_ + "\n"};
  }

 private:
  mutable std::mutex mu_;
  std::string status_ = "starting";
};

Result<HostInventory> discover(const PluginSettings& settings, const NodeFacts& facts) {
  const bool resilience_off = facts.ici_resiliency_disabled && facts.ici_resiliency_disabled->value;
  if (settings.simulate || settings.simulate_node) {
    const auto slice = settings.simulate ? Result<topology::SliceSpec>(*settings.simulate) : declared_slice(facts);
    if (!slice) return slice.error();
    auto chips = simulated_chips(*slice);
    const size_t count = chips.size();
    return HostInventory{
        *slice, std::move(chips), std::vector<bool>(count, true), {resilience_off}, settings.simulate_device_nodes};
  }
  auto scanned = scan_sysfs_chips(settings.health.sysfs_root);
  if (!scanned) return scanned.error();
  SysfsScan& scan = *scanned;
  for (const auto& problem : scan.problems) spdlog::warn("discovery: {}", problem);
  if (!scan.generation) {
    return Error{"no TPU chips (PCI vendor 0x1ae0) under " + settings.health.sysfs_root + "/bus/pci/devices"};
  }
  const size_t count = scan.chips.size();
  auto slice = resolve_slice(facts, *scan.generation, static_cast<int>(count));
  if (!slice) return slice.error();
  return HostInventory{*slice, std::move(scan.chips), std::vector<bool>(count, true), {resilience_off}};
}

// The facts of node `node_name`'s labels.
Result<NodeFacts> label_facts(const PluginSettings& settings, const char* node_name) {
  const std::string reading = std::string("cannot read the labels of node ") + node_name + ": ";
  const auto config = api_server_config(settings.kubeconfig);
  if (!config) return Error{reading + config.error().message};
  const auto labels = read_node_labels(*config, node_name);
  if (!labels) return Error{reading + labels.error().message};
  return facts_from_node_labels(*labels);
}

}  // namespace

int serve(const PluginSettings& settings) {
  const lifecycle::ShutdownSignals signals;

  std::atomic<bool> stopping{false};
  // The registration loop while it exists; the signal thread and /healthz use it under loop_mu.
  std::mutex loop_mu;
  RegistrationLoop* loop = nullptr;
  const auto set_loop = [&](RegistrationLoop* l) {
    std::lock_guard guard(loop_mu);
    loop = l;
  };
  const lifecycle::ShutdownWatch shutdown(signals, [&](const std::string&) {
    stopping = true;
    std::lock_guard guard(loop_mu);
    if (loop) loop->stop();
  });

  metrics::MetricsRegistry registry;
  PluginMetrics plugin_metrics(registry);
  Readiness readiness;
  std::unique_ptr<metrics::MetricsServer> http;
  if (!settings.metrics_addr.empty()) {
    http = std::make_unique<metrics::MetricsServer>(
        settings.metrics_addr, registry,
        std::map<std::string, metrics::MetricsServer::Handler>{{"/healthz", [&] {
                                                                  std::lock_guard guard(loop_mu);
                                                                  return readiness.reply(loop);
                                                                }}});
    if (auto serving = http->start(); !serving) {
      spdlog::error("{}", serving.error().message);
      return 1;
    }
    spdlog::info("metrics and /healthz on {}", settings.metrics_addr);
  }

  // The kubelet creates its plugin directory, but the plugin may start first; one we cannot create is reported by
  // the server that cannot listen there, and retried.
  std::error_code not_created;
  std::filesystem::create_directories(settings.registration.plugin_dir, not_created);
  readiness.set("waiting for the instance lock " + settings.lock_file);
  InstanceLock lock;
  auto locked = lock.acquire(settings.lock_file, [&] { return stopping.load(); });
  if (!locked) {
    spdlog::error("{}", locked.error().message);
    return 1;
  }
  if (!*locked) return 0;

  // Declared facts, strongest first: flags, config file, environment (settings.node), then the node's labels.
  const NodeFacts& declared = settings.node;
  const char* node_name = std::getenv("NODE_NAME");
  std::optional<NodeFacts> from_labels;
  const auto discover_once = [&]() -> Result<HostInventory> {
    if (node_name && *node_name && !from_labels) {
      auto facts = label_facts(settings, node_name);
      if (!facts) return facts.error();
      from_labels = std::move(*facts);
      spdlog::info("read the labels of node {}", node_name);
    }
    return discover(settings, from_labels ? overlay(declared, *from_labels) : declared);
  };
  std::optional<HostInventory> inventory;
  std::string last_error;
  while (!inventory && !stopping) {
    auto found = discover_once();
    if (found) {
      inventory = std::move(*found);
      break;
    }
    const std::string& why = found.error().message;
    if (why != last_error) {
      spdlog::error("discovery: {}; retrying every {}s", why,
                    std::chrono::duration_cast<std::chrono::seconds>(settings.discovery_retry).count());
      last_error = why;
    }
    readiness.set("discovery: " + why);
    for (auto waited = 0ns; waited < settings.discovery_retry && !stopping; waited += 100ms) {
      std::this_thread::sleep_for(100ms);
    }
  }
  if (!inventory) return 0;
  spdlog::info("found {} {} chips; slice {} of {} hosts", inventory->chips.size(),
               inventory->slice.generation_info().name, inventory->slice.topology().to_string(),
               inventory->slice.hosts());
  plugin_metrics.chips.set(static_cast<double>(inventory->chips.size()));
  plugin_metrics.chips_healthy.set(static_cast<double>(inventory->chips.size()));

  DeviceState state(std::move(*inventory));
  HealthMonitor monitor(state, settings.health, plugin_metrics);
  auto opened = RegistrationLoop::open(settings.registration, state, plugin_metrics);
  if (!opened) {
    spdlog::error("{}", opened.error().message);
    return 1;
  }
  RegistrationLoop& registration = **opened;
  set_loop(&registration);
  if (!stopping) {
    Ticker health_ticker(settings.health_interval, [&] { monitor.check_all(); });
    Ticker allocated_ticker(settings.health_interval, [&] {
      if (const auto n = count_allocated_chips(settings.pod_resources_socket, 500ms)) {
        plugin_metrics.chips_allocated.set(*n);
      }
    });
    registration.run();
  }
  set_loop(nullptr);
  if (http) http->stop();
  return 0;
}

}  // namespace tpustack::deviceplugin
