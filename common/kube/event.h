#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace tpustack::kube {

enum class EventType { kNormal, kWarning };

// A core/v1 Event about `involved` (any object with apiVersion, kind and metadata), named as
// client-go names them ("<object>.<hex nanoseconds>") so that repeated events do not collide.
nlohmann::json make_event(const nlohmann::json& involved, EventType type, std::string_view reason,
                          std::string_view message, std::string_view component,
                          std::chrono::system_clock::time_point now);

// "2024-05-01T12:00:00Z", as metav1.Time serializes.
std::string rfc3339(std::chrono::system_clock::time_point t);
// The reverse of rfc3339() ("Z" only, fractions of a second ignored); nullopt when `text` is not one.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text);

}  // namespace tpustack::kube
