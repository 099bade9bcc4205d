#pragma once

#include <map>
#include <string>
#include <string_view>

#include "common/result/result.h"

namespace tpustack::inferd::server {

// One entry of models.json: the directory that serves a name (relative to the models directory, or absolute), and
// the digest its content must have ("" takes whatever is there).
struct ModelPointer {
  std::string path;
  std::string digest;
};

using ModelPointers = std::map<std::string, ModelPointer>;  // by model name

// models.json: {"NAME": {"path": "DIR", "digest": "sha256:HEX"}, ...}. `source` names the file in errors.
Result<ModelPointers> parse_model_pointers(std::string_view text, const std::string& source);

}  // namespace tpustack::inferd::server
