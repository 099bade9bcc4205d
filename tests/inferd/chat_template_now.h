#pragma once

#include <ctime>

namespace tpustack::inferd::testing {

// The local time the chat-template tests give strftime_now: 2024-07-26 09:05:00, a Friday, as
// tests/inferd/tools/render_chat_templates.py gives it to jinja2.
inline std::tm chat_template_now() {
  std::tm now{};
  now.tm_year = 2024 - 1900;
  now.tm_mon = 6;
  now.tm_mday = 26;
  now.tm_hour = 9;
  now.tm_min = 5;
  now.tm_wday = 5;
  now.tm_yday = 207;
  return now;
}

}  // namespace tpustack::inferd::testing
