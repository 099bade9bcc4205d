#pragma once

#include <string>
#include <string_view>

namespace tpustack {

// Whether '+' means a space, as it does in a query string (application/x-www-form-urlencoded), or itself, as in
// a path.
enum class PlusSign { literal, space };

// A URL component with its %XX escapes decoded; a malformed escape stays as it is.
std::string percent_decoded(std::string_view text, PlusSign plus = PlusSign::literal);

}  // namespace tpustack
