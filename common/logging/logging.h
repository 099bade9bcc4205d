#pragma once

#include <string>
#include <string_view>

#include <spdlog/common.h>

#include "common/result/result.h"

namespace tpustack::logging {

struct LoggingOptions {
  std::string level = "info";  // trace, debug, info, warn, error, critical, off
  bool json = false;           // one JSON object per line instead of human-readable text
};

// Parses a --log-level value; an Error naming the accepted values.
Result<spdlog::level::level_enum> parse_level(std::string_view text);

// Parses a --log-format value, "text" or "json" (true); an Error naming both.
Result<bool> parse_json_format(std::string_view text);

// Configures the default spdlog logger for a program: stderr, one line per event. An Error (and nothing
// changed) for a level parse_level refuses.
Result<void> setup_logging(const LoggingOptions& options, std::string_view program);

}  // namespace tpustack::logging
