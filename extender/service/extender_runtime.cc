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

}  // namespace

ExtenderRuntime::ExtenderRuntime(kube::ClusterConfig cluster, ServeOptions options)
    : client_(std::move(cluster), client_options()),
      binder_(client_),
      service_(binder_, registry_),
      nodes_(client_, kube::resources::kNodes, {}),
      pods_(client_, kube::resources::kPods, active_pods()),
      http_(options.listen, service_, registry_),
      metrics_server_(options.metrics_addr, registry_,
                      {{"/healthz",
                        [] {
                          return metrics::MetricsServer::Reply{200, "ok\n"};
                        }},
                       {"/readyz", [this] { return readiness(); }}}),
      upkeep_(service_, client_, options.group_timeout) {
  nodes_.add_handlers({[this](const nlohmann::json& node) { service_.apply_node(node); },
                       [this](const nlohmann::json&, const nlohmann::json& node) { service_.apply_node(node); },
                       [this](const nlohmann::json& node) { service_.delete_node(node); }});
  pods_.add_handlers({[this](const nlohmann::json& pod) { service_.apply_pod(pod); },
                      [this](const nlohmann::json&, const nlohmann::json& pod) { service_.apply_pod(pod); },
                      [this](const nlohmann::json& pod) { service_.delete_pod(pod); }});
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

void ExtenderRuntime::start() {
  http_.start();
  metrics_server_.start();
  nodes_.start();
  pods_.start();
  upkeep_.start();
  sync_waiter_ = std::jthread([this](std::stop_token stop) {
    while (!stop.stop_requested()) {
      if (nodes_.wait_for_sync(std::chrono::milliseconds(100)) && pods_.wait_for_sync(std::chrono::milliseconds(100))) {
        service_.set_synced();
        service_.refresh_gauges();
        spdlog::info("nodes and pods synced; reservations rebuilt; answering the scheduler");
        return;
      }
    }
  });
}

void ExtenderRuntime::stop() {
  sync_waiter_ = {};
  upkeep_.stop();
  http_.stop();
  metrics_server_.stop();
  nodes_.stop();
  pods_.stop();
}

}  // namespace tpustack::extender
