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

#include "inferd/batching/batch_scheduler.h"
#include "inferd/encoder/encoder_model.h"
#include "inferd/generation/generative_model.h"
#include "inferd/server/model_catalog.h"
#include "inferd/server/request_error.h"
#include "inferd/server/server_metrics.h"

namespace tpustack::inferd::server {

// A version of a model in memory: an encoder with its own batch queue (request threads tokenize with it, const;
// only the scheduler's run thread calls the engine), or a decoder with its continuous-batching engine.
class LoadedModel {
 public:
  LoadedModel(std::string name, CatalogEntry entry, std::unique_ptr<EncoderModel> model,
              const batching::BatchLimits& limits, batching::QueueLimits max_queue, ServerMetrics& metrics);
  LoadedModel(std::string name, CatalogEntry entry, std::unique_ptr<generation::GenerativeModel> generator);

  const std::string& name() const { return name_; }
  // The version loaded: its directory, card and digest (the catalog may name a newer one by now).
  const CatalogEntry& entry() const { return entry_; }
  // The name clients see (--served-model-name).
  const std::string& served_name() const { return server::served_name(name_, entry_); }
  // An encoder's model and queue (routes reach them only for a model whose task they serve: model_routing.h).
  const EncoderModel& model() const { return *model_; }
  batching::BatchScheduler& scheduler() { return *scheduler_; }
  // A decoder's; null for an encoder.
  generation::GenerativeModel* generator() { return generator_.get(); }

  engine::WeightPrecision precision() const;
  std::string kernel() const;
  // Sequences queued or running.
  size_t pending() const;
  // Fails queued work and stops the engine's thread.
  void stop();

 private:
  std::string name_;
  CatalogEntry entry_;
  std::unique_ptr<EncoderModel> model_;
  std::unique_ptr<batching::BatchScheduler> scheduler_;
  std::unique_ptr<generation::GenerativeModel> generator_;
};

struct PoolOptions {
  batching::BatchLimits limits;
  size_t max_queue = 1024;  // sequences queued per model
  size_t threads = 1;
  uint64_t memory_budget = 0;  // bytes of weights resident at once; 0: no limit
  std::optional<engine::WeightPrecision> precision = engine::WeightPrecision::f32;  // none: `--variant auto`
  size_t max_queue_tokens = 0;               // tokens queued per model; 0: no bound
  generation::GenerativeOptions generation;  // decoders' (threads and precision come from the fields above)
  // Set (--backend pjrt): encoders run on this plugin's devices; decoders stay on the CPU until the PJRT decode step
  // exists.
  PjrtPlacement pjrt;
};

// The models this process serves: loaded (and warmed up) on first use or by preload, unloaded least-recently-used
// first when the memory budget needs room. A model with work in its queue is never unloaded. The catalog can change
// while serving (update): a request holds the version it acquired until it is answered.
class ModelPool {
 public:
  ModelPool(ModelCatalog catalog, PoolOptions options, ServerMetrics& metrics);
  ~ModelPool();

  // `name` may be omitted when the catalog has one model.
  Result<std::shared_ptr<LoadedModel>, RequestError> acquire(const std::optional<std::string>& name);

  // What is served now; the next call may return a newer catalog.
  std::shared_ptr<const ModelCatalog> catalog() const;
  std::vector<std::string> loaded() const;
  // The model if it is in memory now; null otherwise (never loads it).
  std::shared_ptr<LoadedModel> resident(const std::string& name) const;
  // Sequences queued or running across all loaded models, the versions still draining included.
  size_t pending() const;
  const PoolOptions& options() const { return options_; }

  // Serves `next` from now on. A name in memory whose digest changed has its new version loaded and warmed up beside
  // the old one before new requests go to it (the memory budget is exceeded by that version meanwhile); one not in
  // memory loads its new version on first use. Replaced and removed versions keep answering what they hold, and are
  // unloaded by release_drained. Returns, by name, why a new version failed to load: that name keeps its old one.
  // Called from one thread at a time.
  std::map<std::string, std::string> update(ModelCatalog next);
  // Unloads the replaced and removed versions that no request holds any more; returns how many still drain.
  size_t release_drained();
  // Fails queued work and stops every model's scheduler.
  void stop();

 private:
  struct Slot {
    std::mutex load_mu;  // held while loading, so concurrent first requests load once
    std::shared_ptr<LoadedModel> model;
    uint64_t last_used = 0;
  };
  // The version `entry` of model `name`, loaded and warmed up.
  Result<std::shared_ptr<LoadedModel>> load(const std::string& name, const CatalogEntry& entry);
  Result<void, RequestError> make_room(const std::string& name, uint64_t bytes);

  const PoolOptions options_;
  ServerMetrics& metrics_;
  mutable std::mutex mu_;
  std::shared_ptr<const ModelCatalog> catalog_;
  std::map<std::string, std::shared_ptr<Slot>> slots_;  // a name's slot lives while the catalog serves it
  std::vector<std::shared_ptr<LoadedModel>> draining_;  // replaced or removed versions still answering requests
  uint64_t clock_ = 0;
};

}  // namespace tpustack::inferd::server
