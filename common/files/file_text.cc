#include "common/files/file_text.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace tpustack::files {

Result<std::string> read_file_text(const std::filesystem::path& path, std::string_view what) {
  const auto failure = [&] {
    std::string subject = what.empty() ? path.string() : std::string(what) + " " + path.string();
    return Error{"cannot read " + subject + ": " + std::strerror(errno)};
  };
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) return failure();
  std::ostringstream content;
  content << in.rdbuf();  // an empty file sets failbit here, which is no error
  if (in.bad()) return failure();
  return content.str();
}

}  // namespace tpustack::files
