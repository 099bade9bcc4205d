#pragma once

#include <string>
#include <vector>

namespace inferd::cli {

// `inferd bench --model DIR [--batch N] [--seq-len N | --texts FILE] [--threads N] [--seconds S]
// [--variant f32|i8]`: prints one JSON line with throughput and latency; returns the process exit code.
int run_bench(const std::vector<std::string>& args);

}  // namespace inferd::cli
