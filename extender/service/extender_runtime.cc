#include "extender/service/extender_runtime.h"

#include <spdlog/spdlog.h>

namespace tpustack::extender {

namespace {

kube::ClientOptions client_options() {
  kube::ClientOptions options;
  options.user_agent = "tpu-extender";
  options.component = "tpu-extender";
  return options;
}

kube::Informer::Options active_pods() {
  kube::Informer::Options options;
  // Finished pods hold no chips; leaving the selection shows up as a delete.
  options.field_selector = "status.phase!=Succeeded,status.phase!=Failed";
  return options;
}

kube::Informer::Options the_ledger(const std::string& ns) {
  kube::Informer::Options options;
  options.ns = ns;
  options.field_selector = std::string("metadata.name=") + kReservationsConfigMap;
  return options;
}

}  // namespace

ExtenderRuntime::ExtenderRuntime(kube::ClusterConfig cluster, ServeOptions options)
    : client_(std::move(cluster), client_options()),
      binder_(client_),
      service_(binder_, registry_, options.scheduler_names),
      nodes_(client_, kube::resources::kNodes, {}),
      pods_(client_, kube::resources::kPods, active_pods()),
      ledger_(client_, options.reservations_namespace),
      ledger_informer_(client_, kube::resources::kConfigMaps, the_ledger(options.reservations_namespace)),
      http_(options.verbs, service_, registry_),
      metrics_server_(options.metrics_addr, registry_,
                      {{"/healthz",
                        [] {
                          return metrics::MetricsServer::Reply{200, "ok\n"};
                        }},
                       {"/readyz", [this] { return readiness(); }},
                       // What the Deployment probes: the verbs can answer. kubelet probes hold no client
                       // certificate for the verbs port, and a provisioner problem must not take both replicas
                       // out of the Service the scheduler calls.
                       {"/readyz/verbs",
                        [this] {
                          return synced() ? metrics::MetricsServer::Reply{200, "ok\n"}
                                          : metrics::MetricsServer::Reply{503, "cache not synced\n"};
                        }}}),
      upkeep_(service_, client_, options.group_timeout) {
  nodes_.add_handlers({[this](const nlohmann::json& node) { service_.apply_node(node); },
                       [this](const nlohmann::json&, const nlohmann::json& node) { service_.apply_node(node); },
                       [this](const nlohmann::json& node) { service_.delete_node(node); }});
  pods_.add_handlers({[this](const nlohmann::json& pod) { service_.apply_pod(pod); },
                      [this](const nlohmann::json&, const nlohmann::json& pod) { service_.apply_pod(pod); },
                      [this](const nlohmann::json& pod) { service_.delete_pod(pod); }});
  service_.share_reservations(ledger_);
  auto mirror = [this](const nlohmann::json& config_map) { service_.apply_reservations(config_map); };
  // A deleted ConfigMap changes nothing here: the next write creates it again with a newer version.
  ledger_informer_.add_handlers(
      {mirror, [mirror](const nlohmann::json&, const nlohmann::json& config_map) { mirror(config_map); }, nullptr});
}

ExtenderRuntime::~ExtenderRuntime() { stop(); }

void ExtenderRuntime::set_readiness_check(ReadinessCheck check) {
  std::lock_guard lock(readiness_mu_);
  readiness_check_ = std::move(check);
}

metrics::MetricsServer::Reply ExtenderRuntime::readiness() const {
  if (!synced()) return {503, "cache not synced\n"};
  std::lock_guard lock(readiness_mu_);
  if (readiness_check_) {
    if (auto reason = readiness_check_()) return {503, *reason + "\n"};
  }
  return {200, "ok\n"};
}

Result<void> ExtenderRuntime::start() {
  if (auto started = http_.start(); !started) return started;
  if (auto started = metrics_server_.start(); !started) {
    http_.stop();
    return started;
  }
  nodes_.start();
  pods_.start();
  ledger_informer_.start();
  upkeep_.start();
  sync_waiter_ = std::jthread([this](std::stop_token stop) {
    while (!stop.stop_requested()) {
      if (nodes_.wait_for_sync(std::chrono::milliseconds(100)) && pods_.wait_for_sync(std::chrono::milliseconds(100)) &&
          ledger_informer_.wait_for_sync(std::chrono::milliseconds(100))) {
        service_.set_synced();
        service_.refresh_gauges();
        spdlog::info("nodes, pods and the shared reservations ({}/{}) synced; answering the scheduler", ledger_.ns(),
                     ledger_.name());
        return;
      }
    }
  });
  return {};
}

void ExtenderRuntime::stop() {
  sync_waiter_ = {};
  upkeep_.stop();
  http_.stop();
  metrics_server_.stop();
  nodes_.stop();
  pods_.stop();
  ledger_informer_.stop();
}

}  // namespace tpustack::extender
