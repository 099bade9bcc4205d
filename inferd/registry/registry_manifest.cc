#include "inferd/registry/registry_manifest.h"

#include <nlohmann/json.hpp>

#include "inferd/registry/sha256.h"

namespace tpustack::inferd::registry {

namespace {

using nlohmann::json;

Result<std::vector<ManifestFile>> parse_files(const json& files, const std::string& where) {
  if (!files.is_array()) return Error{where + ": \"files\" must be an array"};
  std::vector<ManifestFile> parsed;
  for (const json& file : files) {
    if (!file.is_object() || !file.contains("name") || !file["name"].is_string() || !file.contains("sha256") ||
        !file["sha256"].is_string() || !file.contains("size") || !file["size"].is_number_unsigned()) {
      return Error{where + ": every file needs a string \"name\", a string \"sha256\" and a number \"size\""};
    }
    ManifestFile entry{file["name"], file["sha256"], file["size"]};
    if (!is_safe_relative_path(entry.name)) return Error{where + ": file name \"" + entry.name + "\" is not allowed"};
    if (!is_sha256_hex(entry.sha256)) {
      return Error{where + ": file " + entry.name + " has sha256 \"" + entry.sha256 +
                   "\", not 64 lower-case hex digits"};
    }
    parsed.push_back(std::move(entry));
  }
  return parsed;
}

}  // namespace

bool is_safe_relative_path(const std::string& path) {
  if (path.empty() || path.front() == '/' || path.back() == '/') return false;
  for (char c : path) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                         c == '_' || c == '-' || c == '/';
    if (!allowed) return false;
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    const std::string part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

Result<std::vector<IndexEntry>> parse_index(const std::string& json_text) {
  json index = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (index.is_discarded() || !index.is_object() || !index.contains("models") || !index["models"].is_array()) {
    return Error{"index.json is not a JSON object with a \"models\" array"};
  }
  std::vector<IndexEntry> entries;
  for (const json& model : index["models"]) {
    if (!model.is_object() || !model.contains("name") || !model["name"].is_string()) {
      return Error{"index.json: every model needs a string \"name\""};
    }
    IndexEntry entry{model["name"], {}};
    if (model.contains("variants") && model["variants"].is_array()) {
      for (const json& v : model["variants"]) {
        if (v.is_string()) entry.variants.push_back(v);
      }
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

Result<Manifest> parse_manifest(const std::string& json_text) {
  json doc = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("name") || !doc["name"].is_string()) {
    return Error{"the manifest is not a JSON object with a string \"name\""};
  }
  Manifest manifest;
  manifest.name = doc["name"];
  const std::string where = "manifest of " + manifest.name;
  if (doc.contains("files")) {
    auto files = parse_files(doc["files"], where);
    if (!files) return files.error();
    manifest.files = std::move(files).value();
  }
  if (doc.contains("variants")) {
    if (!doc["variants"].is_object()) return Error{where + ": \"variants\" must be an object"};
    for (const auto& [variant, body] : doc["variants"].items()) {
      if (!body.is_object() || !body.contains("files")) return Error{where + ": variant " + variant + " has no files"};
      auto files = parse_files(body["files"], where + ", variant " + variant);
      if (!files) return files.error();
      manifest.variants[variant] = std::move(files).value();
    }
  }
  return manifest;
}

Result<std::vector<ManifestFile>> files_for_variant(const Manifest& manifest, const std::string& variant) {
  auto found = manifest.variants.find(variant);
  if (found == manifest.variants.end()) {
    std::string have;
    for (const auto& [name, files] : manifest.variants) have += (have.empty() ? "" : ", ") + name;
    return Error{"model " + manifest.name + " has no variant " + variant + "; it has " +
                 (have.empty() ? "none" : have)};
  }
  std::vector<ManifestFile> files = manifest.files;
  files.insert(files.end(), found->second.begin(), found->second.end());
  return files;
}

}  // namespace tpustack::inferd::registry
