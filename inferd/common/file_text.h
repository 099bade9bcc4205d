#pragma once

#include <filesystem>
#include <string>

#include "inferd/common/result.h"

namespace inferd {

// The whole content of a file, or an Error naming the file.
Result<std::string> read_file_text(const std::filesystem::path& path);

}  // namespace inferd
