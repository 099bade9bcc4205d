#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result/result.h"
#include "inferd/model/safetensors_file.h"

namespace tpustack::inferd::model {

// model.safetensors.index.json's weight_map: the shard files it names (in file name order) and each tensor's shard.
struct WeightMap {
  std::vector<std::string> files;
  std::map<std::string, size_t> shard_of;
};

// Reads an index's text (`source` names it in errors); a shard named by a path rather than a file name is an Error.
Result<WeightMap> read_weight_map(std::string_view text, const std::string& source);

// A model directory's weights: model.safetensors, or the shards (model-00001-of-00002.safetensors, ...) that
// model.safetensors.index.json's weight_map assigns each tensor to.
class SafetensorsShards {
 public:
  static Result<SafetensorsShards> open(const std::filesystem::path& directory);

  bool contains(const std::string& name) const { return shard_of_.count(name) > 0; }
  // As SafetensorsFile::read_f32, from the shard that holds the tensor; a tensor no shard holds is an Error naming
  // the index (or model.safetensors) and the tensor.
  Result<std::vector<float>> read_f32(const std::string& name, const std::vector<size_t>& expected_shape) const;

 private:
  std::filesystem::path source_;  // the index, or the one file
  std::vector<SafetensorsFile> files_;
  std::map<std::string, size_t> shard_of_;
};

}  // namespace tpustack::inferd::model
