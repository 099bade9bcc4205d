#include "inferd/registry/model_pull.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "inferd/registry/sha256.h"

namespace inferd::registry {

namespace {

namespace fs = std::filesystem;

std::optional<Error> verify(const fs::path& file, const ManifestFile& expected) {
  std::error_code ec;
  const uint64_t size = fs::file_size(file, ec);
  if (ec || size != expected.size) {
    return Error{expected.name + ": " + std::to_string(ec ? 0 : size) + " bytes, the manifest says " +
                 std::to_string(expected.size)};
  }
  auto digest = sha256_file(file);
  if (!digest) return digest.error();
  if (*digest != expected.sha256) {
    return Error{expected.name + ": sha256 " + *digest + ", the manifest says " + expected.sha256};
  }
  return std::nullopt;
}

struct HubFile {
  const char* name;
  bool required;
};

// What the engine reads from a model directory; the rest of a hub repository (ONNX exports, READMEs) is not fetched.
constexpr HubFile hub_files[] = {
    {"config.json", true},   {"model.safetensors", true},      {"tokenizer.json", false},
    {"vocab.txt", false},    {"tokenizer_config.json", false}, {"special_tokens_map.json", false},
    {"modules.json", false}, {"1_Pooling/config.json", false},
};

}  // namespace

Result<bool> fetch_file(BlobSource& source, const std::string& source_path, const fs::path& target,
                        const std::optional<ManifestFile>& expected, int attempts, PullReport& report) {
  std::error_code ec;
  if (fs::exists(target, ec) && (!expected || !verify(target, *expected))) {
    ++report.skipped;
    return true;
  }
  fs::create_directories(target.parent_path(), ec);
  if (ec) return Error{"cannot create " + target.parent_path().string() + ": " + ec.message()};
  const fs::path partial = target.string() + ".partial";
  std::string last_error;
  for (int attempt = 1; attempt <= std::max(attempts, 1); ++attempt) {
    auto download = source.download(source_path, partial);
    if (!download) {
      last_error = download.error().message;
      spdlog::warn("attempt {} of {} for {}: {}", attempt, attempts, source.locate(source_path), last_error);
      continue;  // the partial file keeps what arrived; the next attempt resumes from there
    }
    if (!download->found) {
      fs::remove(partial, ec);
      return false;
    }
    if (expected) {
      if (auto bad = verify(partial, *expected)) {
        last_error = bad->message;
        spdlog::warn("attempt {} of {} for {}: {}; discarding it", attempt, attempts, source.locate(source_path),
                     last_error);
        fs::remove(partial, ec);
        continue;
      }
    }
    fs::rename(partial, target, ec);
    if (ec) return Error{"cannot move " + partial.string() + " to " + target.string() + ": " + ec.message()};
    ++report.downloaded;
    report.bytes += download->size;
    spdlog::info("fetched {} ({} bytes) from {}", target.string(), download->size, source.locate(source_path));
    return true;
  }
  if (expected) fs::remove(partial, ec);  // a checked file that never verified must not linger
  return Error{"could not fetch " + source.locate(source_path) + " after " + std::to_string(attempts) +
               " attempts: " + last_error};
}

Result<PullReport> pull_from_registry(BlobSource& source, const PullOptions& options) {
  auto index_text = source.read_text("index.json");
  if (!index_text) return index_text.error();
  auto index = parse_index(*index_text);
  if (!index) return index.error();
  PullReport report;
  for (const std::string& model : options.models) {
    auto entry = std::find_if(index->begin(), index->end(), [&](const IndexEntry& e) { return e.name == model; });
    if (entry == index->end() || !is_safe_relative_path(model)) {
      std::string have;
      for (const IndexEntry& e : *index) have += (have.empty() ? "" : ", ") + e.name;
      return Error{"model " + model + " is not in the registry's index.json; it has " + (have.empty() ? "none" : have)};
    }
    auto manifest_text = source.read_text("manifests/" + model + ".json");
    if (!manifest_text) return manifest_text.error();
    auto manifest = parse_manifest(*manifest_text);
    if (!manifest) return manifest.error();
    auto files = files_for_variant(*manifest, options.variant);
    if (!files) return files.error();
    for (const ManifestFile& file : *files) {
      auto fetched = fetch_file(source, "blobs/sha256/" + file.sha256, options.dest / model / file.name, file,
                                options.attempts, report);
      if (!fetched) return Error{"model " + model + ": " + fetched.error().message};
      if (!*fetched) return Error{"model " + model + ": the registry has no blob for " + file.name};
    }
    spdlog::info("model {} ({}) is in {}", model, options.variant, (options.dest / model).string());
  }
  return report;
}

Result<PullReport> pull_from_hub(BlobSource& source, const PullOptions& options) {
  PullReport report;
  for (const std::string& model : options.models) {
    const size_t at = model.find('@');
    const std::string repo = model.substr(0, at);
    const std::string revision = at == std::string::npos ? "main" : model.substr(at + 1);
    if (!is_safe_relative_path(repo) || !is_safe_relative_path(revision)) {
      return Error{"\"" + model + "\" is not a repository name such as owner/name or owner/name@revision"};
    }
    for (const HubFile& file : hub_files) {
      auto fetched = fetch_file(source, repo + "/resolve/" + revision + "/" + file.name,
                                options.dest / repo / file.name, std::nullopt, options.attempts, report);
      if (!fetched) return Error{"model " + repo + ": " + fetched.error().message};
      if (!*fetched && file.required) return Error{"model " + repo + ": the hub has no " + file.name};
    }
    spdlog::info("model {} ({}) is in {}", repo, revision, (options.dest / repo).string());
  }
  return report;
}

}  // namespace inferd::registry
