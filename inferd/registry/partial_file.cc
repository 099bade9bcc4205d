#include "inferd/registry/partial_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tpustack::inferd::registry {

namespace fs = std::filesystem;

Result<PartialFile> PartialFile::open(const fs::path& path, bool append) {
  const int flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | (append ? O_APPEND : O_TRUNC);
  const int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0) {
    const int error = errno;
    if (error == ELOOP) {
      return Error{path.string() + " is a symlink; refusing to write through it",
                   tpustack::ErrorKind::kFailedPrecondition};
    }
    return Error{"cannot write " + path.string() + ": " + std::strerror(error)};
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Error{path.string() + " is not a regular file"};
  }
  return PartialFile(fd, path, append ? static_cast<uint64_t>(st.st_size) : 0);
}

PartialFile::PartialFile(PartialFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)), size_(other.size_) {}

PartialFile::~PartialFile() {
  if (fd_ >= 0) ::close(fd_);
}

Result<void> PartialFile::write(const void* data, size_t size) {
  const char* bytes = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd_, bytes, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Error{"cannot write " + path_.string() + ": " + std::strerror(errno)};
    bytes += n;
    size -= static_cast<size_t>(n);
    size_ += static_cast<uint64_t>(n);
  }
  return {};
}

uint64_t regular_file_size(const fs::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return 0;
  return static_cast<uint64_t>(st.st_size);
}

namespace {

fs::path validator_path(const fs::path& partial) { return partial.string() + ".validator"; }

}  // namespace

std::string read_validator(const fs::path& partial) {
  const int fd = ::open(validator_path(partial).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return "";
  char buffer[512];
  const ssize_t n = ::read(fd, buffer, sizeof buffer);
  ::close(fd);
  return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : "";
}

Result<void> write_validator(const fs::path& partial, const std::string& validator) {
  auto file = PartialFile::open(validator_path(partial), false);
  if (!file) return file.error();
  return file->write(validator.data(), validator.size());
}

void remove_partial(const fs::path& partial) {
  std::error_code ec;
  fs::remove(partial, ec);
  fs::remove(validator_path(partial), ec);
}

}  // namespace tpustack::inferd::registry
