#include "inferd/server/model_pool.h"

#include <spdlog/spdlog.h>

#include "inferd/server/eviction.h"

namespace inferd::server {

namespace {

// A classifier's rows are every label's logit; an embedder's are its pooled vectors, unnormalised (the service
// normalises after any Matryoshka truncation, and not when the client asks for raw vectors).
batching::BatchRunner engine_runner(EncoderModel& model) {
  return [&model](const std::vector<tokenizer::Encoding>& inputs) -> Result<batching::Rows> {
    auto rows = model.kind() == ModelKind::reranker ? model.classify(inputs) : model.embed(inputs, false);
    if (!rows) return rows.error();
    return batching::Rows{rows->dimensions, std::move(rows->values)};
  };
}

}  // namespace

LoadedModel::LoadedModel(std::string name, std::unique_ptr<EncoderModel> model, const batching::BatchLimits& limits,
                         batching::QueueLimits max_queue, ServerMetrics& metrics)
    : name_(std::move(name)), model_(std::move(model)) {
  auto& queue = metrics.queue_size.labels({name_});
  auto& batch_size = metrics.batch_next_size.labels({name_});
  auto& batch_tokens = metrics.batch_next_tokens.labels({name_});
  auto& dropped = metrics.request_failure.labels({"dropped"});
  batching::SchedulerEvents events{
      [&queue](size_t queued) { queue.set(static_cast<double>(queued)); },
      [&batch_size, &batch_tokens](size_t sequences, size_t tokens, batching::Clock::duration) {
        batch_size.observe(static_cast<double>(sequences));
        batch_tokens.observe(static_cast<double>(tokens));
      },
      [&dropped](size_t sequences) { dropped.inc(static_cast<double>(sequences)); }};
  scheduler_ = std::make_unique<batching::BatchScheduler>(limits, max_queue, engine_runner(*model_), std::move(events));
}

ModelPool::ModelPool(ModelCatalog catalog, PoolOptions options, ServerMetrics& metrics)
    : catalog_(std::move(catalog)), options_(options), metrics_(metrics) {
  for (const auto& [name, entry] : catalog_) slots_[name] = std::make_unique<Slot>();
}

ModelPool::~ModelPool() { stop(); }

std::variant<std::shared_ptr<LoadedModel>, RequestError> ModelPool::acquire(const std::optional<std::string>& name) {
  std::string chosen;
  if (name && !name->empty()) {
    chosen = *name;
  } else if (catalog_.size() == 1) {
    chosen = catalog_.begin()->first;
  } else {
    return RequestError{400, "validation",
                        "this server has " + std::to_string(catalog_.size()) + " models; name one with \"model\""};
  }
  auto found = catalog_.find(chosen);
  if (found == catalog_.end()) return RequestError{404, "not_found", "no model named \"" + chosen + "\""};
  Slot& slot = *slots_.at(chosen);
  {
    std::lock_guard lock(mu_);
    slot.last_used = ++clock_;
    if (slot.model) return slot.model;
  }
  std::lock_guard load_lock(slot.load_mu);
  {
    std::lock_guard lock(mu_);
    if (slot.model) return slot.model;
  }
  if (auto full = make_room(chosen)) return *full;
  const auto start = batching::Clock::now();
  auto loaded = EncoderModel::load(found->second.directory, {options_.threads, options_.precision});
  if (!loaded) {
    spdlog::error("model {} failed to load: {}", chosen, loaded.error().message);
    return RequestError{500, "backend", "model \"" + chosen + "\" failed to load: " + loaded.error().message};
  }
  auto model =
      std::make_shared<LoadedModel>(chosen, std::make_unique<EncoderModel>(std::move(loaded).value()), options_.limits,
                                    batching::QueueLimits(options_.max_queue, options_.max_queue_tokens), metrics_);
  spdlog::info("model {} loaded from {} in {:.2f}s ({} bytes of weights)", chosen, found->second.directory.string(),
               std::chrono::duration<double>(batching::Clock::now() - start).count(), found->second.bytes);
  std::lock_guard lock(mu_);
  slot.model = model;
  metrics_.models_loaded.unlabelled().inc();
  return model;
}

std::optional<RequestError> ModelPool::make_room(const std::string& name) {
  std::vector<std::shared_ptr<LoadedModel>> unloading;  // released outside the lock: their schedulers join threads
  {
    std::lock_guard lock(mu_);
    std::vector<ResidentModel> resident;
    for (const auto& [other, slot] : slots_) {
      if (!slot->model) continue;
      // Held elsewhere (a request in flight) or with queued work: busy.
      const bool busy = slot->model.use_count() > 1 || slot->model->scheduler().pending() > 0;
      resident.push_back({other, catalog_.at(other).bytes, slot->last_used, busy});
    }
    auto evict = choose_evictions(resident, catalog_.at(name).bytes, options_.memory_budget);
    if (!evict) {
      return RequestError{503, "overloaded",
                          "model \"" + name + "\" does not fit in --memory-budget while the loaded models are busy"};
    }
    for (const std::string& other : *evict) {
      spdlog::info("unloading model {} to make room for {}", other, name);
      unloading.push_back(std::move(slots_.at(other)->model));
      metrics_.models_loaded.unlabelled().dec();
    }
  }
  return std::nullopt;
}

std::vector<std::string> ModelPool::loaded() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> names;
  for (const auto& [name, slot] : slots_) {
    if (slot->model) names.push_back(name);
  }
  return names;
}

std::shared_ptr<LoadedModel> ModelPool::resident(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto found = slots_.find(name);
  return found == slots_.end() ? nullptr : found->second->model;
}

size_t ModelPool::pending() const {
  std::lock_guard lock(mu_);
  size_t total = 0;
  for (const auto& [name, slot] : slots_) {
    if (slot->model) total += slot->model->scheduler().pending();
  }
  return total;
}

void ModelPool::stop() {
  std::lock_guard lock(mu_);
  for (const auto& [name, slot] : slots_) {
    if (slot->model) slot->model->scheduler().stop();
  }
}

}  // namespace inferd::server
