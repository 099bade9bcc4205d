#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/result/result.h"

namespace tpustack::inferd::registry {

// One file of a model: where it goes in the model directory, and the blob that fills it.
struct ManifestFile {
  std::string name;  // relative path inside the model directory, e.g. "1_Pooling/config.json"
  std::string sha256;
  uint64_t size = 0;
};

struct IndexEntry {
  std::string name;
  std::vector<std::string> variants;
};

struct Manifest {
  std::string name;
  std::vector<ManifestFile> files;                            // every variant needs these
  std::map<std::string, std::vector<ManifestFile>> variants;  // "f32", "f16", "i8" → the weights
};

Result<std::vector<IndexEntry>> parse_index(const std::string& json_text);
Result<Manifest> parse_manifest(const std::string& json_text);

// The files one variant of a model needs: the shared files plus the variant's own.
Result<std::vector<ManifestFile>> files_for_variant(const Manifest& manifest, const std::string& variant);

// A model name or file name that stays inside the directory it is joined to: relative, no "..", no odd characters.
bool is_safe_relative_path(const std::string& path);

}  // namespace tpustack::inferd::registry
