#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace tpustack::config {

// Parses Go-style durations as Kubernetes users write them: "1s", "500ms", "1m30s", "2h", "250us".
// Throws std::invalid_argument with the text and the accepted units.
std::chrono::nanoseconds parse_duration(std::string_view text);

// "1.5s", "250ms", "0s": the shortest form parse_duration reads back.
std::string format_duration(std::chrono::nanoseconds d);

}  // namespace tpustack::config
