#include "inferd/jinja/python_string.h"

#include <algorithm>
#include <charconv>
#include <limits>

#include <utf8proc.h>

#include "inferd/tokenizer/unicode_text.h"

namespace tpustack::inferd::jinja {

namespace {

using tokenizer::append_utf8;
using tokenizer::encode_utf8;

struct CodePointAt {
  char32_t code_point;
  size_t length;  // in bytes
};

// The code point that starts at byte `at`; a byte that starts no valid UTF-8 sequence reads as U+FFFD, one byte long.
CodePointAt code_point_at(std::string_view text, size_t at) {
  utf8proc_int32_t code_point = 0;
  const utf8proc_ssize_t length = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(text.data()) + at,
                                                   static_cast<utf8proc_ssize_t>(text.size() - at), &code_point);
  if (length <= 0) return {U'\uFFFD', 1};
  return {static_cast<char32_t>(code_point), static_cast<size_t>(length)};
}

template <class Map>
std::string map_code_points(std::string_view text, Map map) {
  std::string out;
  out.reserve(text.size());
  for (char32_t c : code_points_of(text)) append_utf8(out, map(c));
  return out;
}

char32_t to_upper(char32_t c) { return static_cast<char32_t>(utf8proc_toupper(static_cast<utf8proc_int32_t>(c))); }
char32_t to_lower(char32_t c) { return static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c))); }
char32_t to_title(char32_t c) { return static_cast<char32_t>(utf8proc_totitle(static_cast<utf8proc_int32_t>(c))); }

bool is_line_boundary(char32_t c) {
  return c == U'\n' || c == U'\v' || c == U'\f' || c == U'\r' || (c >= 0x1C && c <= 0x1E) || c == 0x85 || c == 0x2028 ||
         c == 0x2029;
}

// Python's split without a separator: runs of whitespace cut, leading and trailing ones dropped.
std::vector<std::string> split_on_whitespace(std::string_view text, int64_t max_splits, bool from_right) {
  std::u32string points = code_points_of(text);
  if (from_right) std::reverse(points.begin(), points.end());
  std::vector<std::string> parts;
  size_t at = 0;
  while (true) {
    while (at < points.size() && is_python_space(points[at])) ++at;
    if (at == points.size()) break;
    size_t end = at;
    if (max_splits >= 0 && static_cast<int64_t>(parts.size()) == max_splits) {
      end = points.size();  // the rest is one part, its trailing whitespace kept
    } else {
      while (end < points.size() && !is_python_space(points[end])) ++end;
    }
    std::u32string part = points.substr(at, end - at);
    if (from_right) std::reverse(part.begin(), part.end());
    parts.push_back(encode_utf8(part));
    at = end;
  }
  if (from_right) std::reverse(parts.begin(), parts.end());
  return parts;
}

// Digits of `base` with single underscores between them, underscores dropped; nullopt for anything else.
std::optional<std::string> digits_without_underscores(std::string_view text, int base) {
  const auto is_digit = [&](char c) {
    const int value = c >= '0' && c <= '9'                     ? c - '0'
                      : (c | 0x20) >= 'a' && (c | 0x20) <= 'z' ? (c | 0x20) - 'a' + 10
                                                               : 99;
    return value < base;
  };
  std::string digits;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '_' && i > 0 && i + 1 < text.size() && is_digit(text[i - 1]) && is_digit(text[i + 1])) continue;
    if (!is_digit(text[i])) return std::nullopt;
    digits += text[i];
  }
  if (digits.empty()) return std::nullopt;
  return digits;
}

// Number text without the whitespace around it and its sign, which sets `negative`.
std::string_view unsigned_number(std::string_view text, bool& negative) {
  std::string_view rest = text.substr(python_space_prefix(text));
  rest.remove_suffix(python_space_suffix(rest));
  negative = !rest.empty() && rest[0] == '-';
  if (!rest.empty() && (rest[0] == '+' || rest[0] == '-')) rest.remove_prefix(1);
  return rest;
}

}  // namespace

std::optional<int64_t> python_int(std::string_view text, int base) {
  bool negative = false;
  std::string_view rest = unsigned_number(text, negative);
  const char prefix = rest.size() > 1 && rest[0] == '0' ? static_cast<char>(rest[1] | 0x20) : 0;
  const int prefixed_base = prefix == 'x' ? 16 : prefix == 'o' ? 8 : prefix == 'b' ? 2 : 0;
  if (prefixed_base != 0 && (base == 0 || base == prefixed_base)) {
    base = prefixed_base;
    rest.remove_prefix(2);
    if (!rest.empty() && rest[0] == '_') rest.remove_prefix(1);  // "0x_1f"
  } else if (base == 0) {
    base = 10;
    // A decimal with base 0 has no leading zeros, as in Python source.
    if (rest.size() > 1 && rest[0] == '0' && rest.find_first_not_of("0_") != std::string_view::npos)
      return std::nullopt;
  }
  if (base < 2 || base > 36) return std::nullopt;
  const auto digits = digits_without_underscores(rest, base);
  if (!digits) return std::nullopt;
  uint64_t magnitude = 0;
  const auto parsed = std::from_chars(digits->data(), digits->data() + digits->size(), magnitude, base);
  if (parsed.ec != std::errc() || magnitude > static_cast<uint64_t>(INT64_MAX) + (negative ? 1 : 0)) {
    return std::nullopt;
  }
  return negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
}

std::optional<double> python_float(std::string_view text) {
  bool negative = false;
  std::string_view rest = unsigned_number(text, negative);
  std::string lowered(rest);
  for (char& c : lowered) c = static_cast<char>(c | 0x20);
  double value = 0;
  if (lowered == "inf" || lowered == "infinity") {
    value = std::numeric_limits<double>::infinity();
  } else if (lowered == "nan") {
    value = std::numeric_limits<double>::quiet_NaN();
  } else {
    // digits[.digits][e[sign]digits], each run of digits with single underscores inside.
    const size_t exponent_at = lowered.find('e');
    const std::string_view mantissa = std::string_view(rest).substr(0, exponent_at);
    const size_t point = mantissa.find('.');
    const std::string_view whole = mantissa.substr(0, point);
    const std::string_view fraction = point == std::string_view::npos ? "" : mantissa.substr(point + 1);
    if (whole.empty() && fraction.empty()) return std::nullopt;
    const auto whole_digits = whole.empty() ? std::optional<std::string>("0") : digits_without_underscores(whole, 10);
    const auto fraction_digits =
        fraction.empty() ? std::optional<std::string>("0") : digits_without_underscores(fraction, 10);
    if (!whole_digits || !fraction_digits) return std::nullopt;
    std::string number = *whole_digits + "." + *fraction_digits;
    bool negative_exponent = false;
    if (exponent_at != std::string_view::npos) {
      std::string_view exponent = std::string_view(rest).substr(exponent_at + 1);
      number += 'e';
      if (!exponent.empty() && (exponent[0] == '+' || exponent[0] == '-')) {
        negative_exponent = exponent[0] == '-';
        if (negative_exponent) number += '-';
        exponent.remove_prefix(1);
      }
      const auto digits = digits_without_underscores(exponent, 10);
      if (!digits) return std::nullopt;
      number += *digits;
    }
    const auto parsed = std::from_chars(number.data(), number.data() + number.size(), value);
    if (parsed.ec == std::errc::invalid_argument || parsed.ptr != number.data() + number.size()) return std::nullopt;
    // Beyond double's range Python gives inf, or 0 for an exponent too small; from_chars leaves value alone.
    if (parsed.ec == std::errc::result_out_of_range) {
      value = negative_exponent ? 0.0 : std::numeric_limits<double>::infinity();
    }
  }
  return negative ? -value : value;
}

std::u32string code_points_of(std::string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (size_t at = 0; at < text.size();) {
    const auto [code_point, length] = code_point_at(text, at);
    out.push_back(code_point);
    at += length;
  }
  return out;
}

size_t code_point_count(std::string_view text) {
  return static_cast<size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

bool is_python_space(char32_t c) { return tokenizer::is_whitespace(c) || (c >= 0x1C && c <= 0x1F); }

size_t python_space_prefix(std::string_view text) {
  size_t at = 0;
  while (at < text.size()) {
    const auto [code_point, length] = code_point_at(text, at);
    if (!is_python_space(code_point)) break;
    at += length;
  }
  return at;
}

size_t python_space_suffix(std::string_view text) {
  size_t end = text.size();
  while (end > 0) {
    size_t start = end - 1;
    while (start > 0 && end - start < 4 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
    if (python_space_prefix(text.substr(start, end - start)) != end - start) break;
    end = start;
  }
  return text.size() - end;
}

std::string python_strip(std::string_view text, const std::optional<std::string>& chars, StripSide side) {
  if (!chars) {  // whitespace, found without decoding the text between
    if (side != StripSide::kRight) text.remove_prefix(python_space_prefix(text));
    if (side != StripSide::kLeft) text.remove_suffix(python_space_suffix(text));
    return std::string(text);
  }
  const std::u32string points = code_points_of(text);
  const std::u32string strip_set = code_points_of(*chars);
  const auto stripped = [&](char32_t c) { return strip_set.find(c) != std::u32string::npos; };
  size_t begin = 0;
  size_t end = points.size();
  if (side != StripSide::kRight) {
    while (begin < end && stripped(points[begin])) ++begin;
  }
  if (side != StripSide::kLeft) {
    while (end > begin && stripped(points[end - 1])) --end;
  }
  return encode_utf8(std::u32string_view(points).substr(begin, end - begin));
}

Result<std::vector<std::string>> python_split(std::string_view text, const std::optional<std::string>& separator,
                                              int64_t max_splits, bool from_right) {
  if (!separator) return split_on_whitespace(text, max_splits, from_right);
  if (separator->empty()) return Error{"empty separator"};
  std::vector<std::string> parts;
  if (from_right) {
    size_t end = text.size();
    while (max_splits < 0 || static_cast<int64_t>(parts.size()) < max_splits) {
      if (end < separator->size()) break;
      const size_t found = text.rfind(*separator, end - separator->size());
      if (found == std::string_view::npos) break;
      parts.emplace_back(text.substr(found + separator->size(), end - found - separator->size()));
      end = found;
    }
    parts.emplace_back(text.substr(0, end));
    std::reverse(parts.begin(), parts.end());
    return parts;
  }
  size_t start = 0;
  while (max_splits < 0 || static_cast<int64_t>(parts.size()) < max_splits) {
    const size_t found = text.find(*separator, start);
    if (found == std::string_view::npos) break;
    parts.emplace_back(text.substr(start, found - start));
    start = found + separator->size();
  }
  parts.emplace_back(text.substr(start));
  return parts;
}

std::vector<std::string> python_splitlines(std::string_view text) {
  const std::u32string points = code_points_of(text);
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t i = 0; i < points.size(); ++i) {
    if (!is_line_boundary(points[i])) continue;
    lines.push_back(encode_utf8(std::u32string_view(points).substr(start, i - start)));
    if (points[i] == U'\r' && i + 1 < points.size() && points[i + 1] == U'\n') ++i;
    start = i + 1;
  }
  if (start < points.size()) lines.push_back(encode_utf8(std::u32string_view(points).substr(start)));
  return lines;
}

std::string python_replace(std::string_view text, std::string_view old, std::string_view replacement, int64_t count) {
  std::string out;
  if (old.empty()) {
    // Python puts the replacement before every code point and at the end.
    int64_t done = 0;
    for (char32_t c : code_points_of(text)) {
      if (count < 0 || done < count) {
        out += replacement;
        ++done;
      }
      append_utf8(out, c);
    }
    if (count < 0 || done < count) out += replacement;
    return out;
  }
  size_t start = 0;
  for (int64_t done = 0; count < 0 || done < count; ++done) {
    const size_t found = text.find(old, start);
    if (found == std::string_view::npos) break;
    out += text.substr(start, found - start);
    out += replacement;
    start = found + old.size();
  }
  out += text.substr(start);
  return out;
}

int64_t python_find(std::string_view text, std::string_view needle) {
  const size_t found = text.find(needle);
  return found == std::string_view::npos ? -1 : static_cast<int64_t>(code_point_count(text.substr(0, found)));
}

std::string python_upper(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t c : code_points_of(text)) {
    if (c == U'\u00DF') {
      out += "SS";
    } else {
      append_utf8(out, to_upper(c));
    }
  }
  return out;
}

std::string python_lower(std::string_view text) { return map_code_points(text, to_lower); }

std::string python_capitalize(std::string_view text) {
  bool first = true;
  return map_code_points(text, [&](char32_t c) {
    const char32_t mapped = first ? to_title(c) : to_lower(c);
    first = false;
    return mapped;
  });
}

std::vector<size_t> slice_indices(size_t length, std::optional<int64_t> start, std::optional<int64_t> stop,
                                  int64_t step) {
  const auto size = static_cast<int64_t>(length);
  // Python's PySlice_AdjustIndices: negative indices count from the end, then clamp to the sequence.
  const auto adjust = [&](std::optional<int64_t> index, int64_t fallback) {
    if (!index) return fallback;
    int64_t i = *index < 0 ? *index + size : *index;
    if (step > 0) return std::clamp<int64_t>(i, 0, size);
    return std::clamp<int64_t>(i, -1, size - 1);
  };
  const int64_t first = adjust(start, step > 0 ? 0 : size - 1);
  const int64_t end = adjust(stop, step > 0 ? size : -1);
  std::vector<size_t> indices;
  for (int64_t i = first; step > 0 ? i < end : i > end; i += step) indices.push_back(static_cast<size_t>(i));
  return indices;
}

std::string python_substring(std::string_view text, std::optional<int64_t> start, std::optional<int64_t> stop,
                             int64_t step) {
  const std::u32string points = code_points_of(text);
  std::string out;
  for (size_t i : slice_indices(points.size(), start, stop, step)) append_utf8(out, points[i]);
  return out;
}

}  // namespace tpustack::inferd::jinja
