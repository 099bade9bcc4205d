#include "common/kube/watch_event.h"

#include <initializer_list>

#include "common/json/parse_json.h"

namespace tpustack::kube {
namespace {

std::optional<WatchEventType> event_type(std::string_view name) {
  if (name == "ADDED") return WatchEventType::kAdded;
  if (name == "MODIFIED") return WatchEventType::kModified;
  if (name == "DELETED") return WatchEventType::kDeleted;
  if (name == "BOOKMARK") return WatchEventType::kBookmark;
  if (name == "ERROR") return WatchEventType::kError;
  return std::nullopt;
}

std::string excerpt(std::string_view line) {
  constexpr std::size_t kShown = 120;
  return line.size() > kShown ? std::string(line.substr(0, kShown)) + "..." : std::string(line);
}

// The fields the client, the informer and ObjectCache read of every event's object, checked here once so that
// they can read them as the strings they must be.
Result<void> check_object(const WatchEvent& event, std::string_view line) {
  const auto must_be_strings = [&](const nlohmann::json& object, std::string_view where,
                                   std::initializer_list<const char*> keys) -> Result<void> {
    for (const char* key : keys) {
      if (auto value = object.find(key); value != object.end() && !value->is_string()) {
        return Error{"watch event whose " + std::string(where) + key + " is not a string: " + excerpt(line)};
      }
    }
    return {};
  };
  if (auto metadata = event.object.find("metadata"); metadata != event.object.end()) {
    if (!metadata->is_object()) return Error{"watch event whose metadata is not an object: " + excerpt(line)};
    if (auto checked = must_be_strings(*metadata, "metadata.", {"name", "namespace", "resourceVersion"}); !checked) {
      return checked;
    }
  }
  if (event.type == WatchEventType::kError) return must_be_strings(event.object, "Status ", {"reason", "message"});
  return {};
}

}  // namespace

std::string_view to_string(WatchEventType type) {
  switch (type) {
    case WatchEventType::kAdded:
      return "ADDED";
    case WatchEventType::kModified:
      return "MODIFIED";
    case WatchEventType::kDeleted:
      return "DELETED";
    case WatchEventType::kBookmark:
      return "BOOKMARK";
    case WatchEventType::kError:
      return "ERROR";
  }
  return "UNKNOWN";
}

std::string WatchEvent::resource_version() const {
  const auto* metadata = object.is_object() && object.contains("metadata") ? &object["metadata"] : nullptr;
  if (metadata == nullptr || !metadata->is_object()) return "";
  return metadata->value("resourceVersion", "");
}

int WatchEvent::error_code() const {
  if (type != WatchEventType::kError || !object.is_object()) return 0;
  const auto code = object.find("code");
  return code != object.end() && code->is_number_integer() ? code->get<int>() : 0;
}

Result<WatchEvent> parse_watch_event(std::string_view line) {
  // Deeper than any Kubernetes object (a CRD's schema nests about 30 levels), shallow enough that copying the
  // cached object can never overflow the stack.
  auto parsed = json::parse_json(line, "watch event", {.max_depth = 256});
  if (!parsed) return Error{parsed.error().message + ": " + excerpt(line)};
  nlohmann::json& doc = *parsed;
  if (!doc.is_object() || !doc.contains("type") || !doc["type"].is_string()) {
    return Error{"not a watch event: " + excerpt(line)};
  }
  auto type = event_type(doc["type"].get<std::string>());
  if (!type) return Error{"unknown watch event type in: " + excerpt(line)};
  WatchEvent event;
  event.type = *type;
  if (auto object = doc.find("object"); object != doc.end()) event.object = std::move(*object);
  if (!event.object.is_object()) return Error{"watch event without an object: " + excerpt(line)};
  if (auto checked = check_object(event, line); !checked) return checked.error();
  return event;
}

std::vector<std::string> LineSplitter::feed(std::string_view bytes) {
  std::vector<std::string> lines;
  partial_.append(bytes);
  std::size_t start = 0;
  for (std::size_t end; (end = partial_.find('\n', start)) != std::string::npos; start = end + 1) {
    std::string_view line(partial_.data() + start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) lines.emplace_back(line);
  }
  partial_.erase(0, start);
  return lines;
}

}  // namespace tpustack::kube
