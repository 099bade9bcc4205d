#include "common/files/file_text.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace tpustack::files {

std::string read_file_text(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (!in || !(text << in.rdbuf())) throw std::runtime_error("cannot read " + what + " " + path);
  return text.str();
}

}  // namespace tpustack::files
