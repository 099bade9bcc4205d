#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "common/result/result.h"

namespace tpustack::inferd::model {

struct TensorEntry {
  std::string dtype;
  std::vector<size_t> shape;
  size_t begin = 0;
  size_t end = 0;
};

// A .safetensors file held in memory: an 8-byte little-endian header length, a JSON header, then the data.
class SafetensorsFile {
 public:
  static Result<SafetensorsFile> open(const std::filesystem::path& path);
  // The file's bytes, read already; `path` only names the file in errors.
  static Result<SafetensorsFile> parse(std::string bytes, const std::filesystem::path& path);

  bool contains(const std::string& name) const { return entries_.count(name) > 0; }
  // The tensor converted to fp32 (from F32, F16 or BF16); an Error names the file and tensor when the tensor is
  // missing, has another dtype, or its shape differs from the expected one.
  Result<std::vector<float>> read_f32(const std::string& name, const std::vector<size_t>& expected_shape) const;

  const std::filesystem::path& path() const { return path_; }
  const std::map<std::string, TensorEntry>& tensors() const { return entries_; }

 private:
  std::filesystem::path path_;
  std::string bytes_;
  size_t data_start_ = 0;
  std::map<std::string, TensorEntry> entries_;
};

}  // namespace tpustack::inferd::model
