#pragma once

#include <chrono>
#include <mutex>
#include <string>

#include "common/result/result.h"

namespace tpustack::provisioning {

// The GCE/GKE metadata server (shared/reference §C.6): plain values and the access token of the
// node's or, with Workload Identity, the pod's service account. Every request carries
// Metadata-Flavor: Google. A failure is a provider_error().
class MetadataServer {
 public:
  explicit MetadataServer(std::string base_url = "http://metadata.google.internal");

  // "project/project-id", "instance/attributes/cluster-name", ...
  Result<std::string> get(const std::string& key) const;

  // A bearer token, fetched again once it is within a minute of expiring. Thread-safe.
  Result<std::string> access_token();
  // Forgets the token after the API refused it (401), so that the next access_token() fetches a new one.
  void invalidate_token();

 private:
  std::string base_url_;
  std::mutex mu_;
  std::string token_;
  std::chrono::steady_clock::time_point refresh_at_{};
};

}  // namespace tpustack::provisioning
