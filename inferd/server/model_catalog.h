#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "inferd/common/result.h"

namespace inferd::server {

struct CatalogEntry {
  std::filesystem::path directory;
  uint64_t bytes = 0;     // weight files on disk: what the memory budget counts
  bool reranker = false;  // config.json names a *ForSequenceClassification architecture
};

using ModelCatalog = std::map<std::string, CatalogEntry>;

// Model directories (those with a config.json) under models_dir, named by their relative path ("bge" or
// "owner/bge"), plus NAME=DIR pairs from --model, which win on a name clash.
Result<ModelCatalog> discover_models(const std::filesystem::path& models_dir, const std::vector<std::string>& named);

}  // namespace inferd::server
