#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "common/result/result.h"

namespace tpustack::inferd::registry {

struct Download {
  bool found = true;  // false: the source has no such file (HTTP 404, or no file in the directory)
  uint64_t size = 0;  // bytes in the partial file afterwards
};

// Where registry documents and blobs come from: an HTTP(S) base URL or a local directory with the same layout.
class BlobSource {
 public:
  virtual ~BlobSource() = default;

  // The URL or path of `path`, for messages.
  virtual std::string locate(const std::string& path) const = 0;
  virtual Result<std::string> read_text(const std::string& path) = 0;
  // Brings `partial` up to the whole of `path`, keeping the bytes it already has when the source can resume and
  // vouch that they are of the same file. Never writes through a symlink at `partial`.
  virtual Result<Download> download(const std::string& path, const std::filesystem::path& partial) = 0;
  // The commit a Hugging Face-style `path` (<repo>/resolve/<revision>/<file>) resolves to, as the hub's
  // X-Repo-Commit header of a HEAD request names it (what huggingface_hub asks too); "" where the source has
  // no such notion.
  virtual Result<std::string> revision_commit(const std::string& path) = 0;
};

// base_url such as "http://registry:8000/v1"; requests resume with HTTP Range and If-Range.
std::unique_ptr<BlobSource> make_http_source(const std::string& base_url);
std::unique_ptr<BlobSource> make_directory_source(const std::filesystem::path& root);

}  // namespace tpustack::inferd::registry
