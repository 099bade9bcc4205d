#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "common/result/result.h"
#include "inferd/registry/directory_digest.h"
#include "inferd/server/directory_events.h"
#include "inferd/server/model_pointers.h"
#include "inferd/server/model_pool.h"
#include "inferd/server/server_metrics.h"
#include "inferd/server/version_plan.h"

namespace tpustack::inferd::server {

struct FollowOptions {
  std::filesystem::path models_dir;  // may be empty: --model only
  std::vector<std::string> named;    // --model NAME=DIR
  // Quiet time that ends a burst of events (a copy, a pull's renames, a pointer written in place).
  std::chrono::milliseconds settle{200};
  // A rescan without any event: what inotify does not see (files rewritten inside a model directory, a network
  // filesystem changed by another host).
  std::chrono::milliseconds rescan{std::chrono::seconds(60)};
};

// Keeps a ModelPool serving what the models directory and its models.json say, on a thread of its own: a model
// directory added, replaced or removed, or a pointer switched, is rescanned after its events settle, planned
// (plan_versions) and handed to the pool, which loads the new version beside the old one before switching.
class ModelVersionFollower {
 public:
  ModelVersionFollower(FollowOptions options, ServerMetrics& metrics);
  ~ModelVersionFollower();
  ModelVersionFollower(const ModelVersionFollower&) = delete;
  ModelVersionFollower& operator=(const ModelVersionFollower&) = delete;

  // What to serve at start, by the rules of every rescan; an Error when it is nothing.
  Result<ModelCatalog> initial_catalog();
  // Follows changes into `pool` until stop(); an Error when directory events cannot be had at all.
  Result<void> start(ModelPool& pool);
  void stop();

 private:
  Result<VersionPlan> scan(const ModelCatalog& serving);
  void read_pointers();
  void digest(CatalogEntry& entry);
  void apply(ModelPool& pool);
  void watch_directories(const ModelCatalog& serving);
  // Waits for a burst of events to end; false when stopped.
  bool settle();
  void run(ModelPool& pool);

  const FollowOptions options_;
  ServerMetrics& metrics_;
  registry::DirectoryDigests digests_;
  ModelPointers pointers_;                   // the last models.json that could be read
  std::unique_ptr<DirectoryEvents> events_;  // from start()
  std::thread thread_;
};

}  // namespace tpustack::inferd::server
