#pragma once

#include <string>
#include <vector>

namespace inferd::cli {

// `inferd pull (--registry URL | --hf-endpoint URL | --from-dir DIR) --models a,b [--variant f32|f16|i8] --dest DIR`:
// puts each model in DEST/<model>/, verified; returns the process exit code (so it can run as an init container).
int run_pull(const std::vector<std::string>& args);

}  // namespace inferd::cli
