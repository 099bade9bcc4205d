#include "inferd/server/model_pointers.h"

#include <algorithm>

#include "common/json/json_document.h"
#include "inferd/registry/sha256.h"

namespace tpustack::inferd::server {

namespace {

using nlohmann::json;
using tpustack::json::JsonValueError;

bool is_sha256_digest(std::string_view digest) {
  constexpr std::string_view prefix = "sha256:";
  return digest.starts_with(prefix) && registry::is_sha256_hex(digest.substr(prefix.size()));
}

ModelPointer read_pointer(const std::string& name, const json& value) {
  if (!value.is_object()) throw JsonValueError(name + " must be an object with \"path\" and \"digest\"");
  for (const auto& field : value.items()) {
    if (field.key() != "path" && field.key() != "digest") {
      throw JsonValueError(name + ": unknown field \"" + field.key() +
                           "\" (a model is named by \"path\", a directory; pull a registry model first)");
    }
  }
  ModelPointer pointer{value.value("path", ""), value.value("digest", "")};
  if (pointer.path.empty()) throw JsonValueError(name + ": \"path\" must name the model's directory");
  if (!pointer.digest.empty() && !is_sha256_digest(pointer.digest)) {
    throw JsonValueError(name + ": \"digest\" must be sha256: and 64 lower-case hex digits");
  }
  return pointer;
}

}  // namespace

Result<ModelPointers> parse_model_pointers(std::string_view text, const std::string& source) {
  return tpustack::json::read_json_document<ModelPointers>(text, source, [](const json& document) {
    if (!document.is_object()) throw JsonValueError("must be an object of model name to {\"path\", \"digest\"}");
    ModelPointers pointers;
    for (const auto& [name, value] : document.items()) {
      if (name.empty()) throw JsonValueError("a model name is empty");
      pointers[name] = read_pointer(name, value);
    }
    return Result<ModelPointers>(std::move(pointers));
  });
}

}  // namespace tpustack::inferd::server
