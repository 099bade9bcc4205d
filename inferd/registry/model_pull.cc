#include "inferd/registry/model_pull.h"

#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <stdio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <thread>
#include <vector>

#include "common/files/file_text.h"
#include "inferd/model/safetensors_shards.h"
#include "inferd/registry/partial_file.h"
#include "inferd/registry/sha256.h"

namespace tpustack::inferd::registry {

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

// What the engine reads from a model directory besides the weights; the rest of a hub repository (ONNX exports,
// READMEs) is not fetched.
constexpr HubFile hub_files[] = {
    {"config.json", true},
    {"tokenizer.json", false},
    {"vocab.txt", false},
    {"tokenizer_config.json", false},
    {"special_tokens_map.json", false},
    {"modules.json", false},
    {"1_Pooling/config.json", false},
    {"generation_config.json", false},
    {"tokenizer.model", false},
    {"chat_template.jinja", false},
};

// The weights the engine reads (model::SafetensorsShards): the shards model.safetensors.index.json names, when the
// repository has one (as models of more than a few GB do), else model.safetensors.
Result<void> fetch_weights(BlobSource& source, const std::string& base, const fs::path& staging,
                           const PullOptions& options, PullReport& report, std::set<std::string>& names) {
  const std::string index = "model.safetensors.index.json";
  auto fetched = fetch_file(source, base + index, staging / index, std::nullopt, options, report);
  if (!fetched) return fetched.error();
  std::vector<std::string> files{"model.safetensors"};
  if (*fetched) {
    names.insert(index);
    auto text = files::read_file_text(staging / index);
    if (!text) return text.error();
    auto map = model::read_weight_map(*text, index);
    if (!map) return map.error();
    files = map->files;
  }
  for (const std::string& file : files) {
    auto shard = fetch_file(source, base + file, staging / file, std::nullopt, options, report);
    if (!shard) return shard.error();
    if (!*shard) return Error{"the hub has no " + base + file};
    names.insert(file);
  }
  return {};
}

// A pulled model is assembled here, out of the catalog's sight (it skips hidden directories), and appears under
// its name only whole. A pull killed half-way resumes from what this holds.
fs::path staging_dir(const fs::path& dest, const std::string& model) { return dest / ".partial" / model; }

// Records which hub commit a model directory holds, so a later pull of the same revision is a no-op and a
// resumed one never mixes files of two commits.
constexpr const char* kCommitFile = ".inferd-commit";

std::string read_small(const fs::path& path) {
  std::ifstream in(path);
  std::string text;
  std::getline(in, text);
  return text;
}

// Every directory from `dest` down to `path` that exists must be a real directory: a symlink there would send
// the files somewhere else on the node.
Result<void> refuse_symlinks(const fs::path& dest, const fs::path& path) {
  fs::path walked = dest;
  for (const auto& part : path.lexically_relative(dest)) {
    walked /= part;
    std::error_code ec;
    if (fs::is_symlink(fs::symlink_status(walked, ec))) {
      return Error{walked.string() + " is a symlink; refusing to pull through it"};
    }
  }
  return {};
}

Result<void> make_staging(const fs::path& dest, const fs::path& staging) {
  if (auto safe = refuse_symlinks(dest, staging); !safe) return safe;
  std::error_code ec;
  fs::create_directories(staging, ec);
  if (ec) return Error{"cannot create " + staging.string() + ": " + ec.message()};
  return refuse_symlinks(dest, staging);
}

// Makes `staging` the model directory `target` in one step, so that a reader sees the old version or the new one,
// whole, and never a mix or nothing: a rename when there is none yet, else an exchange of the two directories
// (renameat2 RENAME_EXCHANGE) and the removal of the old one.
Result<void> publish(const fs::path& dest, const fs::path& staging, const fs::path& target) {
  if (auto safe = refuse_symlinks(dest, target.parent_path()); !safe) return safe;
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  if (ec) return Error{"cannot create " + target.parent_path().string() + ": " + ec.message()};
  if (::rename(staging.c_str(), target.c_str()) == 0) return {};
  if (errno != ENOTEMPTY && errno != EEXIST) {
    return Error{"cannot move " + staging.string() + " to " + target.string() + ": " + std::strerror(errno)};
  }
  if (::renameat2(AT_FDCWD, staging.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) != 0) {
    return Error{"cannot swap " + staging.string() + " into " + target.string() + ": " + std::strerror(errno)};
  }
  fs::remove_all(staging, ec);  // the old version, now under the staging name
  return {};
}

// Removes the empty staging directories a publish leaves (.partial/owner, .partial).
void remove_empty_staging(const fs::path& dest, const fs::path& staging) {
  std::error_code ec;
  for (fs::path dir = staging.parent_path(); dir != dest && dir.has_relative_path(); dir = dir.parent_path()) {
    if (!fs::remove(dir, ec)) break;  // not empty: another pull's, or a failure
  }
}

// Leaves in `staging` only the files `keep` names (and the commit record): what an earlier, different pull left
// there must not be published with this one.
void remove_strays(const fs::path& staging, const std::set<std::string>& keep) {
  std::error_code ec;
  std::vector<fs::path> strays;
  for (auto it = fs::recursive_directory_iterator(staging, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_directory(ec)) continue;
    const std::string name = it->path().lexically_relative(staging).generic_string();
    if (!keep.contains(name) && name != kCommitFile) strays.push_back(it->path());
  }
  for (const auto& stray : strays) fs::remove(stray, ec);
}

}  // namespace

Result<bool> fetch_file(BlobSource& source, const std::string& source_path, const fs::path& target,
                        const std::optional<ManifestFile>& expected, const PullOptions& options, PullReport& report) {
  std::error_code ec;
  if (fs::exists(target, ec) && (!expected || !verify(target, *expected))) {
    ++report.skipped;
    return true;
  }
  fs::create_directories(target.parent_path(), ec);
  if (ec) return Error{"cannot create " + target.parent_path().string() + ": " + ec.message()};
  const fs::path partial = target.string() + ".partial";
  const int attempts = std::max(options.attempts, 1);
  tpustack::retry::Backoff backoff(options.retry);
  std::string last_error;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    if (attempt > 1) std::this_thread::sleep_for(backoff.next());
    auto download = source.download(source_path, partial);
    if (!download && download.error().kind == tpustack::ErrorKind::kFailedPrecondition) return download.error();
    if (!download) {
      last_error = download.error().message;
      spdlog::warn("attempt {} of {} for {}: {}", attempt, attempts, source.locate(source_path), last_error);
      continue;  // the partial file keeps what arrived; the next attempt resumes from there
    }
    if (!download->found) {
      remove_partial(partial);
      return false;
    }
    if (expected) {
      if (auto bad = verify(partial, *expected)) {
        last_error = bad->message;
        spdlog::warn("attempt {} of {} for {}: {}; discarding it", attempt, attempts, source.locate(source_path),
                     last_error);
        remove_partial(partial);
        continue;
      }
    }
    fs::rename(partial, target, ec);
    if (ec) return Error{"cannot move " + partial.string() + " to " + target.string() + ": " + ec.message()};
    remove_partial(partial);  // its validator
    ++report.downloaded;
    report.bytes += download->size;
    spdlog::info("fetched {} ({} bytes) from {}", target.string(), download->size, source.locate(source_path));
    return true;
  }
  if (expected) remove_partial(partial);  // a checked file that never verified must not linger
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
    const fs::path target = options.dest / model;
    // Each file of the present version is hashed once: a multi-gigabyte weights file is not read again to link it.
    std::vector<bool> present;
    for (const ManifestFile& file : *files) present.push_back(!verify(target / file.name, file));
    if (std::all_of(present.begin(), present.end(), [](bool ok) { return ok; })) {
      report.skipped += files->size();
      spdlog::info("model {} ({}) in {} is complete already", model, options.variant, target.string());
      continue;
    }
    const fs::path staging = staging_dir(options.dest, model);
    if (auto made = make_staging(options.dest, staging); !made)
      return Error{"model " + model + ": " + made.error().message};
    std::set<std::string> names;
    for (size_t i = 0; i < files->size(); ++i) {
      const ManifestFile& file = (*files)[i];
      names.insert(file.name);
      const fs::path staged = staging / file.name;
      std::error_code ec;
      // A file the present version already has right is linked, not fetched again.
      if (present[i] && !fs::exists(fs::symlink_status(staged, ec))) {
        fs::create_directories(staged.parent_path(), ec);
        fs::create_hard_link(target / file.name, staged, ec);
        if (!ec) {
          ++report.skipped;
          continue;
        }
      }
      auto fetched = fetch_file(source, "blobs/sha256/" + file.sha256, staged, file, options, report);
      if (!fetched) return Error{"model " + model + ": " + fetched.error().message};
      if (!*fetched) return Error{"model " + model + ": the registry has no blob for " + file.name};
    }
    remove_strays(staging, names);
    if (auto published = publish(options.dest, staging, target); !published) {
      return Error{"model " + model + ": " + published.error().message};
    }
    remove_empty_staging(options.dest, staging);
    spdlog::info("model {} ({}) is in {}", model, options.variant, target.string());
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
    // Every file from one commit: the revision ("main") may move while the pull runs or between its attempts.
    auto commit = source.revision_commit(repo + "/resolve/" + revision + "/config.json");
    if (!commit) return Error{"model " + repo + ": " + commit.error().message};
    const std::string pinned = commit->empty() ? revision : *commit;
    const fs::path target = options.dest / repo;
    if (!commit->empty() && read_small(target / kCommitFile) == *commit) {
      ++report.skipped;
      spdlog::info("model {} in {} is at commit {} already", repo, target.string(), *commit);
      continue;
    }
    const fs::path staging = staging_dir(options.dest, repo);
    std::error_code ec;
    if (read_small(staging / kCommitFile) != *commit) fs::remove_all(staging, ec);  // another commit's files
    if (auto made = make_staging(options.dest, staging); !made)
      return Error{"model " + repo + ": " + made.error().message};
    if (!commit->empty()) std::ofstream(staging / kCommitFile) << *commit << "\n";
    std::set<std::string> names;
    for (const HubFile& file : hub_files) {
      auto fetched = fetch_file(source, repo + "/resolve/" + pinned + "/" + file.name, staging / file.name,
                                std::nullopt, options, report);
      if (!fetched) return Error{"model " + repo + ": " + fetched.error().message};
      if (!*fetched && file.required) return Error{"model " + repo + ": the hub has no " + file.name};
      if (*fetched) names.insert(file.name);
    }
    if (auto weights = fetch_weights(source, repo + "/resolve/" + pinned + "/", staging, options, report, names);
        !weights) {
      return Error{"model " + repo + ": " + weights.error().message};
    }
    remove_strays(staging, names);
    if (auto published = publish(options.dest, staging, target); !published) {
      return Error{"model " + repo + ": " + published.error().message};
    }
    remove_empty_staging(options.dest, staging);
    spdlog::info("model {} ({}, commit {}) is in {}", repo, revision, commit->empty() ? "unknown" : *commit,
                 target.string());
  }
  return report;
}

}  // namespace tpustack::inferd::registry
