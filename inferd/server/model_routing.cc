#include "inferd/server/model_routing.h"

#include <vector>

#include "inferd/engine/weight_precision.h"

namespace tpustack::inferd::server {

const char* task_verb(Task task) {
  switch (task) {
    case Task::embed:
      return "embed";
    case Task::rerank:
      return "rerank";
    case Task::predict:
      return "predict";
    case Task::generate:
      return "generate text";
  }
  return "";
}

bool can_serve(const CatalogEntry& entry, Task task) {
  switch (task) {
    case Task::embed:
      return !entry.reranker && !entry.card.generator;
    case Task::rerank:
      return entry.reranker && entry.card.labels.size() <= 1;
    case Task::predict:
      return entry.reranker;
    case Task::generate:
      return entry.card.generator;
  }
  return false;
}

const ModelCatalog::value_type* find_model(const ModelCatalog& catalog, const std::string& name) {
  if (auto found = catalog.find(name); found != catalog.end()) return &*found;
  for (const auto& entry : catalog) {
    if (entry.second.served_name == name) return &entry;
  }
  return nullptr;
}

const std::string& primary_model(const ModelCatalog& catalog) {
  const ModelCatalog::value_type* embedder = nullptr;
  size_t embedders = 0;
  for (const auto& entry : catalog) {
    if (!can_serve(entry.second, Task::embed)) continue;
    embedder = &entry;
    ++embedders;
  }
  return embedders == 1 && catalog.size() > 1 ? embedder->first : catalog.begin()->first;
}

Task task_of_root(const ModelCatalog& catalog, const std::optional<std::string>& asked, bool rerank_body) {
  if (rerank_body) return Task::rerank;
  const auto* named = asked ? find_model(catalog, *asked) : nullptr;
  const CatalogEntry& entry = named ? named->second : catalog.at(primary_model(catalog));
  return can_serve(entry, Task::embed) ? Task::embed : Task::predict;
}

Result<ModelChoice, RequestError> choose_model(const ModelCatalog& catalog, const std::optional<std::string>& asked,
                                               Task task) {
  const std::string verb = task_verb(task);
  std::vector<std::string> able;
  for (const auto& [name, entry] : catalog) {
    if (can_serve(entry, task)) able.push_back(name);
  }
  const bool named = asked && !asked->empty();
  if (named) {
    if (const auto* found = find_model(catalog, *asked)) {
      if (can_serve(found->second, task)) return ModelChoice{found->first, ""};
      return RequestError{400, "validation", "model \"" + *asked + "\" cannot " + verb, "model"};
    }
    if (able.size() == 1) {
      return ModelChoice{able.front(), "no model named \"" + *asked + "\"; the only model that can " + verb + ", \"" +
                                           served_name(catalog, able.front()) + "\", answers"};
    }
  } else if (able.size() == 1) {
    return ModelChoice{able.front(), ""};
  }
  std::string names;
  for (const std::string& name : able) names += (names.empty() ? "" : ", ") + served_name(catalog, name);
  const std::string which = able.empty() ? "no model of this server can " + verb
                                         : std::to_string(able.size()) + " models can " + verb + ": " + names;
  if (named) return RequestError{404, "not_found", "no model named \"" + *asked + "\" (" + which + ")", "model"};
  return RequestError{400, "validation", which + "; name one with \"model\"", "model"};
}

Task tokenizing_task(const ModelCatalog& catalog, const std::optional<std::string>& asked) {
  const auto* named = asked ? find_model(catalog, *asked) : nullptr;
  return named && !can_serve(named->second, Task::embed) ? Task::predict : Task::embed;
}

std::string tei_model_dtype(const ModelPool& pool, const std::string& name, const std::string& variant) {
  const auto resident = pool.resident(name);
  const auto precision = resident ? std::optional(resident->precision()) : engine::parse_precision(variant);
  switch (precision.value_or(engine::WeightPrecision::f32)) {
    case engine::WeightPrecision::bf16:
      return "bfloat16";
    case engine::WeightPrecision::i8:
      return "int8";
    case engine::WeightPrecision::f32:
      break;
  }
  return "float32";
}

}  // namespace tpustack::inferd::server
