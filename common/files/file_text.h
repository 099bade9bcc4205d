#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "common/result/result.h"

namespace tpustack::files {

// The whole content of the file at `path`, or an Error "cannot read <what> <path>: <reason>" (`what` says what the
// file is for, e.g. "kubeconfig"; empty leaves it out).
Result<std::string> read_file_text(const std::filesystem::path& path, std::string_view what = {});

}  // namespace tpustack::files
