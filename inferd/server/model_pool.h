#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "inferd/api/encoder_model.h"
#include "inferd/batching/batch_scheduler.h"
#include "inferd/server/model_catalog.h"
#include "inferd/server/request_error.h"
#include "inferd/server/server_metrics.h"

namespace inferd::server {

// A model in memory with its own batch queue. Request threads tokenize with it (const); only the scheduler's run
// thread calls the engine.
class LoadedModel {
 public:
  LoadedModel(std::string name, std::unique_ptr<EncoderModel> model, const batching::BatchLimits& limits,
              batching::QueueLimits max_queue, ServerMetrics& metrics);

  const std::string& name() const { return name_; }
  const EncoderModel& model() const { return *model_; }
  batching::BatchScheduler& scheduler() { return *scheduler_; }

 private:
  std::string name_;
  std::unique_ptr<EncoderModel> model_;
  std::unique_ptr<batching::BatchScheduler> scheduler_;
};

struct PoolOptions {
  batching::BatchLimits limits;
  size_t max_queue = 1024;  // sequences queued per model
  size_t threads = 1;
  uint64_t memory_budget = 0;  // bytes of weights resident at once; 0: no limit
  std::optional<engine::WeightPrecision> precision = engine::WeightPrecision::f32;  // none: `--variant auto`
  size_t max_queue_tokens = 0;  // tokens queued per model; 0: no bound
};

// The models this process serves: loaded on first use or by preload, unloaded least-recently-used first when the
// memory budget needs room. A model with work in its queue is never unloaded.
class ModelPool {
 public:
  ModelPool(ModelCatalog catalog, PoolOptions options, ServerMetrics& metrics);
  ~ModelPool();

  // `name` may be omitted when the catalog has one model.
  std::variant<std::shared_ptr<LoadedModel>, RequestError> acquire(const std::optional<std::string>& name);

  const ModelCatalog& catalog() const { return catalog_; }
  std::vector<std::string> loaded() const;
  // The model if it is in memory now; null otherwise (never loads it).
  std::shared_ptr<LoadedModel> resident(const std::string& name) const;
  // Sequences queued or running across all loaded models.
  size_t pending() const;
  const PoolOptions& options() const { return options_; }
  // Fails queued work and stops every model's scheduler.
  void stop();

 private:
  struct Slot {
    std::mutex load_mu;  // held while loading, so concurrent first requests load once
    std::shared_ptr<LoadedModel> model;
    uint64_t last_used = 0;
  };
  std::optional<RequestError> make_room(const std::string& name);

  const ModelCatalog catalog_;
  const PoolOptions options_;
  ServerMetrics& metrics_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Slot>> slots_;
  uint64_t clock_ = 0;
};

}  // namespace inferd::server
