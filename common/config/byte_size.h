#pragma once

#include <cstddef>
#include <string_view>

#include "common/result/result.h"

namespace tpustack::config {

// Sizes as Kubernetes quantities write them: "1048576", "48Mi", "1Gi", "512Ki", "64M", "2G", "500k".
// An Error naming the text and the accepted suffixes for anything else.
Result<std::size_t> parse_byte_size(std::string_view text);

}  // namespace tpustack::config
