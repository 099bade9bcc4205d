#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/result/result.h"

namespace tpustack::config {

// Parses Go-style durations as Kubernetes users write them: "1s", "500ms", "1m30s", "2h", "250us".
// An Error naming the text and the accepted units for text that is no duration.
Result<std::chrono::nanoseconds> parse_duration(std::string_view text);

// "1.5s", "250ms", "0s": the shortest form parse_duration reads back.
std::string format_duration(std::chrono::nanoseconds d);

}  // namespace tpustack::config
