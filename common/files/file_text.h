#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "common/result/result.h"

namespace tpustack::files {

// The whole content of the file at `path`, or an Error "cannot read <what> <path>: <reason>" (`what` says what the
// file is for, e.g. "kubeconfig"; empty leaves it out).
Result<std::string> read_file_text(const std::filesystem::path& path, std::string_view what = {});

// The same for a file that may be absent: none when no regular file is at `path` (its defaults hold), an Error
// only when one is there and cannot be read.
Result<std::optional<std::string>> read_optional_file_text(const std::filesystem::path& path,
                                                           std::string_view what = {});

}  // namespace tpustack::files
