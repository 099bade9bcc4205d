#pragma once

#include <string>

namespace tpustack::files {

// The whole content of the file at `path`. Throws std::runtime_error "cannot read <what> <path>" when it cannot be
// opened or read.
std::string read_file_text(const std::string& path, const std::string& what);

}  // namespace tpustack::files
