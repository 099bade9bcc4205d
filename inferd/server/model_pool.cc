#include "inferd/server/model_pool.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>

#include "inferd/server/eviction.h"

namespace tpustack::inferd::server {

namespace {

// Held by something besides the pool (a request in flight) or with queued work: not to be unloaded yet.
bool in_use(const std::shared_ptr<LoadedModel>& model) { return model.use_count() > 1 || model->pending() > 0; }

// A classifier's rows are every label's logit; an embedder's are its pooled vectors, unnormalised (the service
// normalises after any Matryoshka truncation, and not when the client asks for raw vectors).
batching::BatchRunner engine_runner(EncoderModel& model) {
  return [&model](const std::vector<tokenizer::Encoding>& inputs) -> Result<batching::Rows> {
    auto rows = model.kind() == ModelKind::reranker ? model.classify(inputs) : model.embed(inputs, false);
    if (!rows) return rows.error();
    return batching::Rows{rows->dimensions, std::move(rows->values)};
  };
}

// One input through the engine before any request reaches the model: its weights are all in place and the
// kernels set up, so the first request is not the one that finds out.
Result<void> warm_up(EncoderModel& model) {
  auto encoding = model.tokenize("warm-up");
  if (!encoding) return encoding.error();
  auto rows = engine_runner(model)({*encoding});
  if (!rows) return Error{"its warm-up run failed: " + rows.error().message};
  return {};
}

// One token generated for a one-token prompt, likewise.
Result<void> warm_up(generation::GenerativeModel& model) {
  auto prompt = model.text_prompt("warm-up");
  if (!prompt) return prompt.error();
  generation::SamplingParams greedy;
  greedy.temperature = 0;
  greedy.max_tokens = 1;
  auto stream = model.engine().submit(std::move(*prompt), greedy, true);
  if (!stream) return Error{"its warm-up run failed: " + stream.error().message};
  for (;;) {
    auto update = (*stream)->next(std::chrono::seconds(1));
    if (update && update->error) return Error{"its warm-up run failed: " + update->error->message};
    if (update && update->last()) return {};
  }
}

}  // namespace

LoadedModel::LoadedModel(std::string name, CatalogEntry entry, std::unique_ptr<generation::GenerativeModel> generator)
    : name_(std::move(name)), entry_(std::move(entry)), generator_(std::move(generator)) {}

engine::WeightPrecision LoadedModel::precision() const {
  return generator_ ? generator_->precision() : model_->precision();
}

std::string LoadedModel::kernel() const { return generator_ ? generator_->kernel() : model_->kernel(); }

size_t LoadedModel::pending() const {
  if (!generator_) return scheduler_->pending();
  const auto figures = generator_->engine().figures();
  return figures.planner.running + figures.planner.waiting;
}

void LoadedModel::stop() {
  if (generator_) {
    generator_->engine().stop();
  } else {
    scheduler_->stop();
  }
}

LoadedModel::LoadedModel(std::string name, CatalogEntry entry, std::unique_ptr<EncoderModel> model,
                         const batching::BatchLimits& limits, batching::QueueLimits max_queue, ServerMetrics& metrics)
    : name_(std::move(name)), entry_(std::move(entry)), model_(std::move(model)) {
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
    : options_(options), metrics_(metrics), catalog_(std::make_shared<const ModelCatalog>(std::move(catalog))) {}

ModelPool::~ModelPool() { stop(); }

std::shared_ptr<const ModelCatalog> ModelPool::catalog() const {
  std::lock_guard lock(mu_);
  return catalog_;
}

Result<std::shared_ptr<LoadedModel>, RequestError> ModelPool::acquire(const std::optional<std::string>& name) {
  std::string chosen;
  if (name && !name->empty()) {
    chosen = *name;
  } else if (const auto catalog = this->catalog(); catalog->size() == 1) {
    chosen = catalog->begin()->first;
  } else {
    return RequestError{400, "validation",
                        "this server has " + std::to_string(catalog->size()) + " models; name one with \"model\""};
  }
  // Again when the catalog changed the version while this one loaded: the request gets the one served now.
  for (;;) {
    std::shared_ptr<Slot> slot;
    CatalogEntry entry;
    {
      std::lock_guard lock(mu_);
      auto found = catalog_->find(chosen);
      if (found == catalog_->end()) return RequestError{404, "not_found", "no model named \"" + chosen + "\""};
      auto& owned = slots_[chosen];
      if (!owned) owned = std::make_shared<Slot>();
      slot = owned;
      slot->last_used = ++clock_;
      if (slot->model) return slot->model;
      entry = found->second;
    }
    std::lock_guard load_lock(slot->load_mu);
    {
      std::lock_guard lock(mu_);
      if (slot->model) return slot->model;
    }
    if (auto full = make_room(chosen, entry.bytes); !full) return full.error();
    auto loaded = load(chosen, entry);
    if (!loaded) {
      spdlog::error("model {} failed to load: {}", chosen, loaded.error().message);
      return RequestError{500, "backend", "model \"" + chosen + "\" failed to load: " + loaded.error().message};
    }
    std::lock_guard lock(mu_);
    auto served = catalog_->find(chosen);
    auto current = slots_.find(chosen);
    if (served != catalog_->end() && served->second.digest == entry.digest && current != slots_.end() &&
        current->second == slot) {
      slot->model = std::move(loaded).value();
      metrics_.models_loaded.unlabelled().inc();
      return slot->model;
    }
  }
}

Result<std::shared_ptr<LoadedModel>> ModelPool::load(const std::string& name, const CatalogEntry& entry) {
  const auto start = batching::Clock::now();
  if (entry.card.generator) {
    generation::GenerativeOptions options = options_.generation;
    options.threads = options_.threads;
    options.precision = options_.precision;
    options.pjrt = options_.pjrt.runtime;
    options.pjrt_warmup = options_.pjrt.options.warmup;
    options.model_digest = entry.digest;
    auto generator = generation::GenerativeModel::load(entry.directory, options);
    if (!generator) return generator.error();
    if (auto warm = warm_up(**generator); !warm) return warm.error();
    spdlog::info("model {} ({}) loaded from {} in {:.2f}s ({} bytes of weights, a context of {} tokens)", name,
                 entry.digest, entry.directory.string(),
                 std::chrono::duration<double>(batching::Clock::now() - start).count(), entry.bytes,
                 (*generator)->context_length());
    return std::make_shared<LoadedModel>(name, entry, std::move(*generator));
  }
  PjrtPlacement pjrt = options_.pjrt;
  pjrt.options.model_digest = entry.digest;
  auto loaded = EncoderModel::load(entry.directory, {options_.threads, options_.precision}, pjrt);
  if (!loaded) return loaded.error();
  auto model = std::make_unique<EncoderModel>(std::move(loaded).value());
  if (auto warm = warm_up(*model); !warm) return warm.error();
  spdlog::info("model {} ({}) loaded from {} in {:.2f}s ({} bytes of weights)", name, entry.digest,
               entry.directory.string(), std::chrono::duration<double>(batching::Clock::now() - start).count(),
               entry.bytes);
  return std::make_shared<LoadedModel>(name, entry, std::move(model), options_.limits,
                                       batching::QueueLimits(options_.max_queue, options_.max_queue_tokens), metrics_);
}

std::map<std::string, std::string> ModelPool::update(ModelCatalog next) {
  std::map<std::string, std::string> failed;
  std::map<std::string, std::shared_ptr<LoadedModel>> replacements;
  const auto current = catalog();
  for (auto& [name, entry] : next) {
    auto old = current->find(name);
    if (old == current->end() || old->second.digest == entry.digest || !resident(name)) continue;
    auto loaded = load(name, entry);
    if (!loaded) {
      spdlog::error("model {}: version {} failed to load, still serving {}: {}", name, entry.digest, old->second.digest,
                    loaded.error().message);
      failed[name] = loaded.error().message;
      const std::string wanted = entry.digest;
      entry = old->second;
      entry.refusal = "version " + wanted + " failed to load: " + loaded.error().message;
      continue;
    }
    replacements[name] = std::move(loaded).value();
  }
  std::lock_guard lock(mu_);
  catalog_ = std::make_shared<const ModelCatalog>(std::move(next));
  for (auto it = slots_.begin(); it != slots_.end();) {
    Slot& slot = *it->second;
    const auto served = catalog_->find(it->first);
    const auto replacement = replacements.find(it->first);
    // A version the catalog no longer names: replaced, removed, or loaded on first use while this update loaded.
    if (slot.model && (served == catalog_->end() || served->second.digest != slot.model->entry().digest)) {
      draining_.push_back(std::move(slot.model));
      metrics_.models_loaded.unlabelled().dec();
    }
    if (replacement != replacements.end()) {
      slot.model = replacement->second;
      metrics_.models_loaded.unlabelled().inc();
    }
    it = served == catalog_->end() ? slots_.erase(it) : std::next(it);
  }
  return failed;
}

size_t ModelPool::release_drained() {
  std::vector<std::shared_ptr<LoadedModel>> drained;  // released outside the lock: their schedulers join threads
  {
    std::lock_guard lock(mu_);
    // Only the pool holds it and its queue is empty: nothing can reach it again.
    auto idle = std::stable_partition(draining_.begin(), draining_.end(), in_use);
    drained.assign(std::make_move_iterator(idle), std::make_move_iterator(draining_.end()));
    draining_.erase(idle, draining_.end());
  }
  for (const auto& model : drained) {
    spdlog::info("model {} ({}) drained and unloaded", model->name(), model->entry().digest);
  }
  drained.clear();
  std::lock_guard lock(mu_);
  return draining_.size();
}

Result<void, RequestError> ModelPool::make_room(const std::string& name, uint64_t bytes) {
  std::vector<std::shared_ptr<LoadedModel>> unloading;  // released outside the lock: their schedulers join threads
  {
    std::lock_guard lock(mu_);
    std::vector<ResidentModel> resident;
    for (const auto& [other, slot] : slots_) {
      if (!slot->model) continue;
      resident.push_back({other, slot->model->entry().bytes, slot->last_used, in_use(slot->model)});
    }
    // Versions still draining hold their memory until they are released.
    for (const auto& model : draining_) resident.push_back({"", model->entry().bytes, 0, true});
    auto evict = choose_evictions(resident, bytes, options_.memory_budget);
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
  return {};
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
    if (slot->model) total += slot->model->pending();
  }
  for (const auto& model : draining_) total += model->pending();
  return total;
}

void ModelPool::stop() {
  std::lock_guard lock(mu_);
  for (const auto& [name, slot] : slots_) {
    if (slot->model) slot->model->stop();
  }
  for (const auto& model : draining_) model->stop();
}

}  // namespace tpustack::inferd::server
