#include "inferd/registry/directory_digest.h"

#include <sys/stat.h>

#include <algorithm>
#include <vector>

#include "inferd/registry/sha256.h"

namespace tpustack::inferd::registry {

namespace {

namespace fs = std::filesystem;

// Past this many files the cache is dropped rather than pruned: it only ever holds the few versions on disk, and
// growing past that means versions came and went.
constexpr size_t kMaxCachedFiles = 4096;

bool is_hidden(const fs::path& relative) {
  return std::any_of(relative.begin(), relative.end(),
                     [](const fs::path& part) { return part.string().starts_with("."); });
}

}  // namespace

Result<std::string> DirectoryDigests::file_sha256(const fs::path& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return Error{"cannot stat " + path.string()};
  const FileIdentity identity{static_cast<uint64_t>(info.st_dev), static_cast<uint64_t>(info.st_ino),
                              static_cast<uint64_t>(info.st_size),
                              int64_t{info.st_mtim.tv_sec} * 1'000'000'000 + info.st_mtim.tv_nsec};
  auto cached = files_.find(path.string());
  if (cached != files_.end() && cached->second.identity == identity) return cached->second.sha256;
  auto hashed = sha256_file(path);
  if (!hashed) return hashed.error();
  if (files_.size() >= kMaxCachedFiles) files_.clear();
  files_[path.string()] = {identity, *hashed};
  return hashed;
}

Result<std::string> DirectoryDigests::digest(const fs::path& directory) {
  std::error_code ec;
  std::vector<std::string> relative;
  fs::recursive_directory_iterator it(directory, fs::directory_options::follow_directory_symlink, ec);
  if (ec) return Error{"cannot list " + directory.string() + ": " + ec.message()};
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const fs::path name = it->path().lexically_relative(directory);
    if (is_hidden(name)) {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(ec)) relative.push_back(name.string());
  }
  if (ec) return Error{"cannot list " + directory.string() + ": " + ec.message()};
  std::sort(relative.begin(), relative.end());
  Sha256 listing;
  for (const std::string& name : relative) {
    auto file = file_sha256(directory / name);
    if (!file) return file.error();
    const std::string line = *file + "  " + name + "\n";  // sha256sum's line for a file read as text
    listing.update(line.data(), line.size());
  }
  return "sha256:" + listing.hex_digest();
}

}  // namespace tpustack::inferd::registry
