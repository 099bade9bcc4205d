#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/retry/backoff.h"
#include "extender/provisioner/metadata_server.h"
#include "extender/provisioner/node_pool_provider.h"
#include "extender/provisioning/gke_cluster.h"

namespace tpustack::provisioning {

struct GkeSettings {
  std::string project;   // empty: project/project-id from the metadata server
  std::string location;  // empty: instance/attributes/cluster-location
  std::string cluster;   // empty: instance/attributes/cluster-name
  std::string api_url = "https://container.googleapis.com";
  std::string compute_url = "https://compute.googleapis.com";  // workload policies (tpu7x)
  std::string metadata_url = "http://metadata.google.internal";
  std::chrono::milliseconds poll_interval{5000};
  std::chrono::milliseconds operation_timeout{30 * 60 * 1000};
  std::chrono::milliseconds request_timeout{30000};
  // How long start keeps asking the metadata server and GKE: Workload Identity's metadata server can
  // answer a new pod only after some seconds.
  std::chrono::milliseconds start_patience{60000};
  retry::Backoff::Policy start_retry{std::chrono::milliseconds(500), std::chrono::milliseconds(5000), 2.0, 0.5};
  std::vector<std::string> oauth_scopes;  // empty: cloud-platform
  PoolDefaults defaults;
};

// Node pools through GKE's container v1 REST API (shared/reference §D.10): create, setSize, delete.
// Operations are polled until DONE and their `error` is read, so a failed create is a failure, not a success.
class GkeProvider : public NodePoolProvider {
 public:
  // Start: fills project, location and cluster from the metadata server where the settings leave them
  // empty, reads the cluster (zones, release channel) and decides how its pools are built (fit_cluster()),
  // and lists the region's workload policies. Logs what the operator should know; a provider_error() says why
  // the cluster cannot be used or did not answer within start_patience.
  static Result<std::unique_ptr<GkeProvider>> start(GkeSettings settings);

  std::string name() const override { return "gke"; }
  Result<std::vector<PoolState>> list() override;
  // A tpu7x multi-host pool's workload policy is checked first: a missing one fails with the gcloud line.
  Result<void> create(const PoolSpec& spec, std::stop_token stop) override;
  Result<void> resize(const std::string& pool, int node_count, std::stop_token stop) override;
  Result<void> remove(const std::string& pool, std::stop_token stop) override;

  const GkeSettings& settings() const { return settings_; }
  const GkeCluster& cluster() const { return cluster_; }
  const ClusterFit& fit() const { return fit_; }

 private:
  explicit GkeProvider(GkeSettings settings);
  // What start() does once the settings are kept.
  Result<void> connect();
  // One request to the container API (or `base`); a 401 fetches a new token and asks once more.
  Result<nlohmann::json> call(const std::string& method, const std::string& path, const nlohmann::json& body = nullptr,
                              const std::string& base = "");
  Result<nlohmann::json> call_once(const std::string& base, const std::string& method, const std::string& path,
                                   const nlohmann::json& body);
  Result<void> wait_for(const nlohmann::json& operation, std::stop_token stop);
  Result<void> require_workload_policy(const PoolSpec& spec);
  void report_workload_policies();
  std::string cluster_path() const;

  GkeSettings settings_;
  MetadataServer metadata_;
  GkeCluster cluster_;
  ClusterFit fit_;
};

}  // namespace tpustack::provisioning
