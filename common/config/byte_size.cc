#include "common/config/byte_size.h"

#include <charconv>
#include <limits>
#include <string>
#include <utility>

namespace tpustack::config {

Result<std::size_t> parse_byte_size(std::string_view text) {
  const auto fail = [&] {
    return Error{"invalid size '" + std::string(text) + "' (bytes, or a number with Ki, Mi, Gi, Ti, k, M, G or T)"};
  };
  std::size_t number = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc() || end == text.data()) return fail();
  static const std::pair<std::string_view, std::size_t> kUnits[] = {
      {"", 1},        {"Ki", 1ULL << 10}, {"Mi", 1ULL << 20},   {"Gi", 1ULL << 30},     {"Ti", 1ULL << 40},
      {"k", 1000ULL}, {"M", 1000000ULL},  {"G", 1000000000ULL}, {"T", 1000000000000ULL}};
  const std::string_view suffix(end, static_cast<std::size_t>(text.data() + text.size() - end));
  for (const auto& [unit, scale] : kUnits) {
    if (suffix != unit) continue;
    if (number > std::numeric_limits<std::size_t>::max() / scale) return fail();
    return number * scale;
  }
  return fail();
}

}  // namespace tpustack::config
