#include "tests/support/temp_dir.h"

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>

namespace tpustack::testing {

std::string make_temp_dir(const std::string& prefix) {
  std::string dir = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (mkdtemp(dir.data()) == nullptr) throw std::runtime_error("cannot make a directory like " + dir);
  return dir;
}

}  // namespace tpustack::testing
