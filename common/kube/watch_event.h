#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result/result.h"

namespace tpustack::kube {

enum class WatchEventType { kAdded, kModified, kDeleted, kBookmark, kError };

std::string_view to_string(WatchEventType type);

// One line of a watch stream: {"type": "ADDED", "object": {...}}. For kError the object is a Status.
struct WatchEvent {
  WatchEventType type = WatchEventType::kAdded;
  nlohmann::json object;

  std::string resource_version() const;
  // The Status code of an ERROR event (410 when the requested version is too old), else 0.
  int error_code() const;
};

// The event on `line`, or an Error quoting the line's start where it is not a watch event.
Result<WatchEvent> parse_watch_event(std::string_view line);

// Splits the bytes of a stream into lines as they arrive; a line may span many reads.
class LineSplitter {
 public:
  // Appends `bytes` and returns the lines they completed, without the newline; blank lines are skipped.
  std::vector<std::string> feed(std::string_view bytes);
  // Bytes of an unfinished line.
  std::size_t pending() const { return partial_.size(); }

 private:
  std::string partial_;
};

}  // namespace tpustack::kube
