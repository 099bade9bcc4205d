#include "extender/provisioner/dry_run_provider.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "extender/provisioning/gke_node_pool_json.h"

namespace tpustack::provisioning {

Result<std::vector<PoolState>> DryRunProvider::list() {
  std::lock_guard lock(mu_);
  std::vector<PoolState> out;
  for (const auto& [name, pool] : pools_) out.push_back(pool);
  return out;
}

Result<void> DryRunProvider::create(const PoolSpec& spec, std::stop_token) {
  std::string operation = fmt::format("create {} {} x{} {}", spec.name, spec.slice.machine_type(), spec.node_count,
                                      spec.slice.topology().to_string());
  GkePoolOptions gke;
  gke.zone = "ZONE";  // no cluster is read: the GKE provider picks it (fit_cluster())
  spdlog::info("dry-run provider: would {}; GKE body {}", operation, node_pool_create_body(spec, {}, gke).dump());
  std::lock_guard lock(mu_);
  operations_.push_back(operation);
  pools_[spec.name] = {spec.name, PoolStatus::kRunning, "", spec.labels, spec.node_count, spec.chips()};
  return {};
}

Result<void> DryRunProvider::resize(const std::string& pool, int node_count, std::stop_token) {
  spdlog::info("dry-run provider: would resize pool {} to {} nodes", pool, node_count);
  std::lock_guard lock(mu_);
  operations_.push_back(fmt::format("resize {} x{}", pool, node_count));
  auto it = pools_.find(pool);
  if (it == pools_.end() || it->second.node_count == 0) return {};
  it->second.chips = it->second.chips / it->second.node_count * node_count;
  it->second.node_count = node_count;
  return {};
}

Result<void> DryRunProvider::remove(const std::string& pool, std::stop_token) {
  spdlog::info("dry-run provider: would delete pool {}", pool);
  std::lock_guard lock(mu_);
  operations_.push_back("delete " + pool);
  pools_.erase(pool);
  return {};
}

std::vector<std::string> DryRunProvider::operations() const {
  std::lock_guard lock(mu_);
  return operations_;
}

}  // namespace tpustack::provisioning
