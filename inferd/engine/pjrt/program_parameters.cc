#include "inferd/engine/pjrt/program_parameters.h"

#include <fmt/format.h>

#include "inferd/engine/pjrt/function_body.h"

namespace tpustack::inferd::engine::pjrt {

Result<std::vector<std::span<const float>>> entry_values(const std::vector<WeightEntry>& entries) {
  std::vector<std::span<const float>> values;
  for (const WeightEntry& entry : entries) {
    int64_t expected = 1;
    for (int64_t dimension : entry.parameter.dims) expected *= dimension;
    if (static_cast<int64_t>(entry.values->size()) != expected) {
      return Error{fmt::format("weight {} has {} values where its shape {} needs {}", entry.parameter.name,
                               entry.values->size(), stablehlo::list_text(entry.parameter.dims), expected)};
    }
    values.emplace_back(*entry.values);
  }
  return values;
}

}  // namespace tpustack::inferd::engine::pjrt
