#include "common/config/duration.h"

#include <array>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace tpustack::config {
namespace {

struct Unit {
  std::string_view suffix;
  double nanos;
};
// Longer suffixes first so "ms" is not read as "m".
constexpr std::array<Unit, 7> kUnits{{
    {"ns", 1.0},
    {"us", 1e3},
    {"µs", 1e3},
    {"ms", 1e6},
    {"s", 1e9},
    {"m", 60e9},
    {"h", 3600e9},
}};

Error fail(std::string_view text) {
  return Error{"invalid duration '" + std::string(text) +
               "' (expected a number with a unit, e.g. 500ms, 1s, 1m30s; units ns, us, ms, s, m, h)"};
}

}  // namespace

Result<std::chrono::nanoseconds> parse_duration(std::string_view text) {
  if (text.empty()) return fail(text);
  if (text == "0") return std::chrono::nanoseconds(0);
  std::string_view rest = text;
  double total = 0;
  while (!rest.empty()) {
    size_t digits = 0;
    while (digits < rest.size() && ((rest[digits] >= '0' && rest[digits] <= '9') || rest[digits] == '.')) ++digits;
    if (digits == 0) return fail(text);
    double value = 0;
    const auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + digits, value);
    if (ec != std::errc() || ptr != rest.data() + digits) return fail(text);
    rest.remove_prefix(digits);
    const Unit* unit = nullptr;
    for (const auto& u : kUnits) {
      if (rest.substr(0, u.suffix.size()) == u.suffix) {
        // "m" must not swallow the "m" of "ms".
        if (u.suffix == "m" && rest.size() > 1 && rest[1] == 's') continue;
        unit = &u;
        break;
      }
    }
    if (unit == nullptr) return fail(text);
    rest.remove_prefix(unit->suffix.size());
    total += value * unit->nanos;
  }
  if (!std::isfinite(total) || total > 9.2e18) return fail(text);
  return std::chrono::nanoseconds(static_cast<long long>(std::llround(total)));
}

std::string format_duration(std::chrono::nanoseconds d) {
  const long long ns = d.count();
  const auto with_unit = [](double v, const char* unit) {
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    (void)ec;
    return std::string(buf, end) + unit;
  };
  if (ns == 0) return "0s";
  if (ns % 1000000000LL == 0 || ns >= 1000000000LL) return with_unit(static_cast<double>(ns) / 1e9, "s");
  if (ns % 1000000LL == 0 || ns >= 1000000LL) return with_unit(static_cast<double>(ns) / 1e6, "ms");
  if (ns % 1000LL == 0 || ns >= 1000LL) return with_unit(static_cast<double>(ns) / 1e3, "us");
  return std::to_string(ns) + "ns";
}

}  // namespace tpustack::config
