#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "common/result/result.h"

namespace tpustack::inferd::registry {

// The file a download writes into. Opened with O_NOFOLLOW: a models directory is shared with other pods, and a
// symlink planted where a partial file goes must be refused, not written through.
class PartialFile {
 public:
  // `append` keeps what the file holds (a resumed transfer); otherwise it is emptied.
  static Result<PartialFile> open(const std::filesystem::path& path, bool append);

  PartialFile(PartialFile&& other) noexcept;
  PartialFile& operator=(PartialFile&&) = delete;
  ~PartialFile();

  Result<void> write(const void* data, size_t size);
  // Bytes in the file: what it held when opened for appending plus what was written since.
  uint64_t size() const { return size_; }

 private:
  PartialFile(int fd, std::filesystem::path path, uint64_t size) : fd_(fd), path_(std::move(path)), size_(size) {}

  int fd_ = -1;
  std::filesystem::path path_;
  uint64_t size_ = 0;
};

// Bytes in `path` when it is a regular file (not following a symlink), else 0.
uint64_t regular_file_size(const std::filesystem::path& path);

// What a resumed download must match: `<partial>.validator` holds the ETag or Last-Modified of the response
// that started the partial file. Empty when there is none, and then the transfer starts again from nothing.
std::string read_validator(const std::filesystem::path& partial);
Result<void> write_validator(const std::filesystem::path& partial, const std::string& validator);
void remove_partial(const std::filesystem::path& partial);

}  // namespace tpustack::inferd::registry
