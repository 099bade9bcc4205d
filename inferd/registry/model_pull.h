#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/result/result.h"
#include "common/retry/backoff.h"
#include "inferd/registry/blob_source.h"
#include "inferd/registry/registry_manifest.h"

namespace tpustack::inferd::registry {

struct PullOptions {
  std::vector<std::string> models;
  std::string variant = "f32";
  std::filesystem::path dest;
  int attempts = 3;  // per file: interrupted transfers resume, corrupt ones start again
  // Between the attempts at one file.
  tpustack::retry::Backoff::Policy retry{std::chrono::milliseconds(500), std::chrono::seconds(10), 2.0, 0.5};
};

struct PullReport {
  size_t downloaded = 0;
  size_t skipped = 0;  // present and valid already
  uint64_t bytes = 0;
};

// Registry layout: index.json → manifests/<model>.json → blobs/sha256/<hex>. Each model is assembled in
// dest/.partial/<model>/ (files the present version has right are linked, not fetched) and appears as
// dest/<model>/ in one rename only when every file is there and verified; a pull killed at any point leaves the
// previous version, or nothing, under that name.

Result<PullReport> pull_from_registry(BlobSource& source, const PullOptions& options);

// Hugging Face layout: <repo>/resolve/<revision>/<file>; a model is "owner/name" or "owner/name@revision".
// The revision is first resolved to its commit (X-Repo-Commit) and every file comes from that commit; the model
// directory records it, so pulling the same commit again fetches nothing. Published like pull_from_registry.
Result<PullReport> pull_from_hub(BlobSource& source, const PullOptions& options);

// Puts one file in place: skipped when present with the right digest; else downloaded to <target>.partial (resuming
// what an earlier attempt left), checked for size and sha256 (when `expected` has one), and renamed over the target.
// A file that fails the check is deleted, never left where the server would load it.
// Attempts, and the wait between them, follow `options`; a refusal to write (a symlink in the way) is not retried.
Result<bool> fetch_file(BlobSource& source, const std::string& source_path, const std::filesystem::path& target,
                        const std::optional<ManifestFile>& expected, const PullOptions& options, PullReport& report);

}  // namespace tpustack::inferd::registry
