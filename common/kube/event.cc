#include "common/kube/event.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <string>

namespace tpustack::kube {

std::string rfc3339(std::chrono::system_clock::time_point t) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text) {
  std::tm utc{};
  const std::string copy(text);
  int consumed = 0;
  if (std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &utc.tm_year, &utc.tm_mon, &utc.tm_mday, &utc.tm_hour,
                  &utc.tm_min, &utc.tm_sec, &consumed) != 6) {
    return std::nullopt;
  }
  std::string_view rest = text.substr(static_cast<std::size_t>(consumed));
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(std::min(rest.find_first_not_of("0123456789", 1), rest.size()));
  }
  if (rest != "Z") return std::nullopt;
  utc.tm_year -= 1900;
  utc.tm_mon -= 1;
  return std::chrono::system_clock::from_time_t(timegm(&utc));
}

nlohmann::json make_event(const nlohmann::json& involved, EventType type, std::string_view reason,
                          std::string_view message, std::string_view component,
                          std::chrono::system_clock::time_point now) {
  const auto& metadata = involved.at("metadata");
  const std::string name = metadata.value("name", "");
  const std::string ns = metadata.value("namespace", "default");
  char suffix[24];
  std::snprintf(suffix, sizeof suffix, "%llx",
                static_cast<unsigned long long>(
                    std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count()));
  nlohmann::json reference = {{"apiVersion", involved.value("apiVersion", "v1")},
                              {"kind", involved.value("kind", "")},
                              {"name", name},
                              {"namespace", ns},
                              {"uid", metadata.value("uid", "")},
                              {"resourceVersion", metadata.value("resourceVersion", "")}};
  const std::string timestamp = rfc3339(now);
  return {{"apiVersion", "v1"},
          {"kind", "Event"},
          {"metadata", {{"name", name + "." + suffix}, {"namespace", ns}}},
          {"involvedObject", std::move(reference)},
          {"type", type == EventType::kWarning ? "Warning" : "Normal"},
          {"reason", reason},
          {"message", message},
          {"source", {{"component", component}}},
          {"reportingComponent", component},
          {"firstTimestamp", timestamp},
          {"lastTimestamp", timestamp},
          {"count", 1}};
}

}  // namespace tpustack::kube
