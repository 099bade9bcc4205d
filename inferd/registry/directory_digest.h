#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "common/result/result.h"

namespace tpustack::inferd::registry {

// The identity of a model version: "sha256:" and the SHA-256 of what `sha256sum` prints for every file under the
// directory but hidden ones (relative paths, sorted bytewise), which an operator or a trainer reproduces with
//   cd DIR && find -L . -type f ! -path '*/.*' -printf '%P\n' | LC_ALL=C sort | xargs -d '\n' sha256sum | sha256sum
// Hidden files are left out because they are bookkeeping (`inferd pull`'s .inferd-commit), not the model.
//
// Each file's hash is kept by the file's (device, inode, size, mtime): a rescan after a change rehashes the files
// that changed, never the gigabytes that did not. Not safe for concurrent calls.
class DirectoryDigests {
 public:
  Result<std::string> digest(const std::filesystem::path& directory);

 private:
  struct FileIdentity {
    uint64_t device = 0;
    uint64_t inode = 0;
    uint64_t size = 0;
    int64_t mtime_ns = 0;
    bool operator==(const FileIdentity&) const = default;
  };
  struct HashedFile {
    FileIdentity identity;
    std::string sha256;
  };
  Result<std::string> file_sha256(const std::filesystem::path& path);

  std::map<std::string, HashedFile> files_;  // by path
};

}  // namespace tpustack::inferd::registry
