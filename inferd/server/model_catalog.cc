#include "inferd/server/model_catalog.h"

#include <fstream>

#include <nlohmann/json.hpp>

namespace inferd::server {

namespace {

namespace fs = std::filesystem;

uint64_t weight_bytes(const fs::path& directory) {
  uint64_t bytes = 0;
  std::error_code ec;
  for (const auto& file : fs::directory_iterator(directory, ec)) {
    if (file.path().extension() == ".safetensors") bytes += file.file_size(ec);
  }
  return bytes;
}

bool is_cross_encoder(const fs::path& directory) {
  std::ifstream in(directory / "config.json");
  auto config = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!config.is_object() || !config.contains("architectures") || !config["architectures"].is_array()) return false;
  for (const auto& architecture : config["architectures"]) {
    if (architecture.is_string() && architecture.get<std::string>().ends_with("ForSequenceClassification")) return true;
  }
  return false;
}

CatalogEntry entry_for(const fs::path& directory) {
  return {directory, weight_bytes(directory), is_cross_encoder(directory)};
}

bool is_model_directory(const fs::path& directory) {
  std::error_code ec;
  return fs::is_regular_file(directory / "config.json", ec);
}

}  // namespace

Result<ModelCatalog> discover_models(const fs::path& models_dir, const std::vector<std::string>& named) {
  ModelCatalog catalog;
  if (!models_dir.empty()) {
    std::error_code ec;
    if (!fs::is_directory(models_dir, ec)) return Error{"--models-dir " + models_dir.string() + " is not a directory"};
    // Two levels: "name" and "owner/name", the layouts `inferd pull` writes.
    for (const auto& first : fs::directory_iterator(models_dir, ec)) {
      if (!first.is_directory()) continue;
      if (is_model_directory(first.path())) {
        catalog[first.path().filename().string()] = entry_for(first.path());
        continue;
      }
      for (const auto& second : fs::directory_iterator(first.path(), ec)) {
        if (second.is_directory() && is_model_directory(second.path())) {
          const std::string name = first.path().filename().string() + "/" + second.path().filename().string();
          catalog[name] = entry_for(second.path());
        }
      }
    }
  }
  for (const std::string& pair : named) {
    const size_t equals = pair.find('=');
    if (equals == std::string::npos || equals == 0 || equals + 1 == pair.size()) {
      return Error{"--model takes NAME=DIR, not \"" + pair + "\""};
    }
    const fs::path directory = pair.substr(equals + 1);
    if (!is_model_directory(directory)) return Error{"--model " + pair + ": no config.json in " + directory.string()};
    catalog[pair.substr(0, equals)] = entry_for(directory);
  }
  if (catalog.empty()) return Error{"no models to serve: give --models-dir DIR or --model NAME=DIR"};
  return catalog;
}

}  // namespace inferd::server
