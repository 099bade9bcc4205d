#pragma once

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "extender/provisioning/metadata_server.h"
#include "extender/provisioning/node_pool_provider.h"

namespace tpustack::provisioning {

struct GkeSettings {
  std::string project;   // empty: project/project-id from the metadata server
  std::string location;  // empty: instance/attributes/cluster-location
  std::string cluster;   // empty: instance/attributes/cluster-name
  std::string api_url = "https://container.googleapis.com";
  std::string metadata_url = "http://metadata.google.internal";
  std::chrono::milliseconds poll_interval{5000};
  std::chrono::milliseconds operation_timeout{30 * 60 * 1000};
  std::chrono::milliseconds request_timeout{30000};
  PoolDefaults defaults;
};

// Node pools through GKE's container v1 REST API (shared/reference §D.10): create, setSize, delete.
// Operations are polled until DONE and their `error` is read, so a failed create is a failure, not a success.
class GkeProvider : public NodePoolProvider {
 public:
  // Fills project, location and cluster from the metadata server where the settings leave them empty.
  explicit GkeProvider(GkeSettings settings);

  std::string name() const override { return "gke"; }
  std::vector<PoolState> list() override;
  void create(const PoolSpec& spec, std::stop_token stop) override;
  void resize(const std::string& pool, int node_count, std::stop_token stop) override;
  void remove(const std::string& pool, std::stop_token stop) override;

  const GkeSettings& settings() const { return settings_; }

 private:
  nlohmann::json call(const std::string& method, const std::string& path, const nlohmann::json& body = nullptr);
  void wait_for(const nlohmann::json& operation, std::stop_token stop);
  std::string cluster_path() const;

  GkeSettings settings_;
  MetadataServer metadata_;
};

}  // namespace tpustack::provisioning
