#include "inferd/server/model_catalog.h"

namespace tpustack::inferd::server {

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

// A card that cannot be read leaves the defaults: loading the model reports what is wrong with it.
CatalogEntry entry_for(const fs::path& directory) {
  auto card = model::read_model_card(directory);
  CatalogEntry entry{directory, weight_bytes(directory), false, card ? *card : model::ModelCard{}, "", "", ""};
  entry.reranker = entry.card.classifier;
  return entry;
}

bool is_model_directory(const fs::path& directory) {
  std::error_code ec;
  return fs::is_regular_file(directory / "config.json", ec);
}

// Hidden directories are never models: `inferd pull` assembles models in .partial/ and renames them into place
// only when whole.
bool is_hidden(const fs::path& directory) { return directory.filename().string().starts_with("."); }

}  // namespace

std::optional<CatalogEntry> catalog_entry(const fs::path& directory) {
  if (!is_model_directory(directory)) return std::nullopt;
  return entry_for(directory);
}

Result<ModelCatalog> discover_models(const fs::path& models_dir, const std::vector<std::string>& named) {
  auto catalog = discover_model_directories(models_dir, named);
  if (catalog && catalog->empty()) return Error{"no models to serve: give --models-dir DIR or --model NAME=DIR"};
  return catalog;
}

Result<ModelCatalog> discover_model_directories(const fs::path& models_dir, const std::vector<std::string>& named) {
  ModelCatalog catalog;
  if (!models_dir.empty()) {
    std::error_code ec;
    if (!fs::is_directory(models_dir, ec)) return Error{"--models-dir " + models_dir.string() + " is not a directory"};
    // Two levels: "name" and "owner/name", the layouts `inferd pull` writes.
    for (const auto& first : fs::directory_iterator(models_dir, ec)) {
      if (!first.is_directory() || is_hidden(first.path())) continue;
      if (is_model_directory(first.path())) {
        catalog[first.path().filename().string()] = entry_for(first.path());
        continue;
      }
      for (const auto& second : fs::directory_iterator(first.path(), ec)) {
        if (second.is_directory() && !is_hidden(second.path()) && is_model_directory(second.path())) {
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
  return catalog;
}

Result<void> apply_served_names(ModelCatalog& catalog, const std::vector<std::string>& served_names) {
  std::map<std::string, std::string> taken;  // served name -> catalog name
  for (const std::string& given : served_names) {
    const size_t equals = given.find('=');
    std::string alias = given.substr(0, equals);
    std::string name;
    if (equals != std::string::npos) {
      name = given.substr(equals + 1);
    } else if (catalog.size() == 1) {
      name = catalog.begin()->first;
    } else {
      return Error{"--served-model-name " + given + ": this server has " + std::to_string(catalog.size()) +
                   " models; give ALIAS=NAME"};
    }
    if (alias.empty() || !catalog.contains(name)) {
      return Error{"--served-model-name " + given + ": no model named \"" + name + "\""};
    }
    if ((catalog.contains(alias) && alias != name) || taken.contains(alias)) {
      return Error{"--served-model-name " + given + ": \"" + alias + "\" already names another model"};
    }
    taken[alias] = name;
    catalog.at(name).served_name = alias;
  }
  return {};
}

const std::string& served_name(const ModelCatalog& catalog, const std::string& name) {
  return served_name(name, catalog.at(name));
}

const std::string& served_name(const std::string& name, const CatalogEntry& entry) {
  return entry.served_name.empty() ? name : entry.served_name;
}

}  // namespace tpustack::inferd::server
