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

Result<std::optional<std::string>> read_optional_file_text(const std::filesystem::path& path, std::string_view what) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return std::optional<std::string>();
  auto text = read_file_text(path, what);
  if (!text) return text.error();
  return std::optional<std::string>(std::move(text).value());
}

}  // namespace tpustack::files
