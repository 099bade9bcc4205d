#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result/result.h"

// Python's str methods on UTF-8 text, counted in code points as Python counts them, for the string methods and
// filters that chat templates call (strip, split, startswith, upper...).
namespace tpustack::inferd::jinja {

// The code points of text; a byte that is not valid UTF-8 reads as U+FFFD (values come from parsed JSON and
// checked template text, so none should).
std::u32string code_points_of(std::string_view text);
size_t code_point_count(std::string_view text);

// str.isspace: Unicode White_Space and the separators U+001C..U+001F, as str.strip and jinja2's `trim` treat them
// (U+FEFF is not one).
bool is_python_space(char32_t c);

// How many bytes of whitespace (as is_python_space) text starts or ends with.
size_t python_space_prefix(std::string_view text);
size_t python_space_suffix(std::string_view text);

enum class StripSide { kBoth, kLeft, kRight };
// str.strip/lstrip/rstrip: `chars` is the set of code points to remove; none removes whitespace.
std::string python_strip(std::string_view text, const std::optional<std::string>& chars, StripSide side);

// str.split / str.rsplit: on `separator`, or on runs of whitespace (dropping empty parts) when there is none; at
// most max_splits cuts when it is not negative. An Error for an empty separator.
Result<std::vector<std::string>> python_split(std::string_view text, const std::optional<std::string>& separator,
                                              int64_t max_splits, bool from_right);
// str.splitlines: lines without their ends, cut at \n, \r, \r\n and Python's other line boundaries.
std::vector<std::string> python_splitlines(std::string_view text);
// str.replace: at most `count` occurrences when it is not negative.
std::string python_replace(std::string_view text, std::string_view old, std::string_view replacement, int64_t count);
// str.find: the code point index of the first occurrence, or -1.
int64_t python_find(std::string_view text, std::string_view needle);

// int(text, base) and float(text): surrounding whitespace, a sign, base prefixes (0x, 0o, 0b where the base
// allows them; base 0 reads the prefix) and single underscores between digits as Python accepts them; nullopt for
// other text, and for integers beyond 64 bits.
std::optional<int64_t> python_int(std::string_view text, int base);
std::optional<double> python_float(std::string_view text);

// str.upper/lower/capitalize by Unicode's simple case mappings, and 'ß' to "SS" as Python's full mapping does (its
// other multi-letter mappings, ligatures and Greek with iota, are left out).
std::string python_upper(std::string_view text);
std::string python_lower(std::string_view text);
std::string python_capitalize(std::string_view text);

// text[start:stop:step] and text[index] over code points, Python's negative and out-of-range indices included.
std::string python_substring(std::string_view text, std::optional<int64_t> start, std::optional<int64_t> stop,
                             int64_t step);

// The indices a Python slice [start:stop:step] takes from a sequence of `length` items, in order.
std::vector<size_t> slice_indices(size_t length, std::optional<int64_t> start, std::optional<int64_t> stop,
                                  int64_t step);

}  // namespace tpustack::inferd::jinja
