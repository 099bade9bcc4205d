#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result/result.h"
#include "inferd/model/model_card.h"

namespace tpustack::inferd::server {

struct CatalogEntry {
  std::filesystem::path directory;
  uint64_t bytes = 0;     // weight files on disk: what the memory budget counts
  bool reranker = false;  // config.json names a *ForSequenceClassification architecture (card.classifier)
  model::ModelCard card;
  std::string served_name;  // what clients see (--served-model-name); "" is the catalog name
  std::string digest;       // the version's "sha256:..." (registry/directory_digest.h); "" until computed
  std::string refusal;      // why the version models.json or a rescan named is not this one; "" when it is
};

using ModelCatalog = std::map<std::string, CatalogEntry>;

// Model directories (those with a config.json) under models_dir, named by their relative path ("bge" or
// "owner/bge"), plus NAME=DIR pairs from --model, which win on a name clash.
Result<ModelCatalog> discover_models(const std::filesystem::path& models_dir, const std::vector<std::string>& named);
// The same, where no model at all is no error: a rescan of a models directory whose last model was removed.
Result<ModelCatalog> discover_model_directories(const std::filesystem::path& models_dir,
                                                const std::vector<std::string>& named);

// The entry for the model directory `directory`, or none when it has no config.json.
std::optional<CatalogEntry> catalog_entry(const std::filesystem::path& directory);

// --served-model-name: "ALIAS" names the one model served; "ALIAS=NAME" names model NAME. An alias that is another
// model's name, or named twice, is an error.
Result<void> apply_served_names(ModelCatalog& catalog, const std::vector<std::string>& served_names);

// The name clients see for catalog entry `name`.
const std::string& served_name(const ModelCatalog& catalog, const std::string& name);
// The name clients see for `entry`, catalogued as `name`.
const std::string& served_name(const std::string& name, const CatalogEntry& entry);

}  // namespace tpustack::inferd::server
