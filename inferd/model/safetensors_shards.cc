#include "inferd/model/safetensors_shards.h"

#include <nlohmann/json.hpp>

#include "common/files/file_text.h"
#include "common/json/json_document.h"

namespace tpustack::inferd::model {

Result<WeightMap> read_weight_map(std::string_view text, const std::string& source) {
  return tpustack::json::read_json_document<WeightMap>(
      text, source, [&](const nlohmann::json& doc) -> Result<WeightMap> {
        const nlohmann::json& map = tpustack::json::member(doc, "weight_map");
        if (!map.is_object()) return Error{source + ": weight_map must be an object of tensor name to file"};
        std::map<std::string, std::string> file_of;
        std::map<std::string, size_t> shard_numbers;
        for (const auto& [name, file] : map.items()) {
          if (!file.is_string()) return Error{source + ": weight_map['" + name + "'] must be a file name"};
          const std::string shard = file.get<std::string>();
          // A file of this directory only: a weight map is no way to read files elsewhere.
          if (shard.empty() || shard.find('/') != std::string::npos || shard.find('\\') != std::string::npos ||
              shard == "." || shard == "..") {
            return Error{source + ": weight_map['" + name + "'] names '" + shard + "', which is not a file name"};
          }
          file_of[name] = shard;
          shard_numbers.emplace(shard, 0);
        }
        WeightMap weights;
        for (auto& [file, number] : shard_numbers) {
          number = weights.files.size();
          weights.files.push_back(file);
        }
        for (const auto& [name, file] : file_of) weights.shard_of[name] = shard_numbers[file];
        return weights;
      });
}

Result<SafetensorsShards> SafetensorsShards::open(const std::filesystem::path& directory) {
  SafetensorsShards shards;
  const auto index = directory / "model.safetensors.index.json";
  if (!std::filesystem::exists(index)) {
    shards.source_ = directory / "model.safetensors";
    auto file = SafetensorsFile::open(shards.source_);
    if (!file) return file.error();
    for (const auto& [name, entry] : file->tensors()) shards.shard_of_[name] = 0;
    shards.files_.push_back(std::move(file).value());
    return shards;
  }
  shards.source_ = index;
  auto text = files::read_file_text(index);
  if (!text) return text.error();
  auto map = read_weight_map(*text, index.string());
  if (!map) return map.error();
  for (const std::string& name : map->files) {
    auto file = SafetensorsFile::open(directory / name);
    if (!file) return file.error();
    shards.files_.push_back(std::move(file).value());
  }
  shards.shard_of_ = std::move(map->shard_of);
  return shards;
}

Result<std::vector<float>> SafetensorsShards::read_f32(const std::string& name,
                                                       const std::vector<size_t>& expected_shape) const {
  auto shard = shard_of_.find(name);
  if (shard == shard_of_.end()) return Error{source_.string() + ": tensor '" + name + "' is missing"};
  return files_[shard->second].read_f32(name, expected_shape);
}

}  // namespace tpustack::inferd::model
