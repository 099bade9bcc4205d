#include "inferd/common/file_text.h"

#include <fstream>
#include <sstream>

namespace inferd {

Result<std::string> read_file_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot open " + path.string()};
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) return Error{"cannot read " + path.string()};
  return content.str();
}

}  // namespace inferd
