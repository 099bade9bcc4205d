#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "inferd/common/result.h"
#include "inferd/model/model_card.h"

namespace inferd::server {

struct CatalogEntry {
  std::filesystem::path directory;
  uint64_t bytes = 0;     // weight files on disk: what the memory budget counts
  bool reranker = false;  // config.json names a *ForSequenceClassification architecture (card.classifier)
  model::ModelCard card;
  std::string served_name;  // what clients see (--served-model-name); "" is the catalog name
};

using ModelCatalog = std::map<std::string, CatalogEntry>;

// Model directories (those with a config.json) under models_dir, named by their relative path ("bge" or
// "owner/bge"), plus NAME=DIR pairs from --model, which win on a name clash.
Result<ModelCatalog> discover_models(const std::filesystem::path& models_dir, const std::vector<std::string>& named);

// --served-model-name: "ALIAS" names the one model served; "ALIAS=NAME" names model NAME. An alias that is another
// model's name, or named twice, is an error.
Result<void> apply_served_names(ModelCatalog& catalog, const std::vector<std::string>& served_names);

// The name clients see for catalog entry `name`.
const std::string& served_name(const ModelCatalog& catalog, const std::string& name);

}  // namespace inferd::server
