#include "inferd/engine/weight_precision.h"

namespace tpustack::inferd::engine {

std::string_view precision_name(WeightPrecision precision) {
  switch (precision) {
    case WeightPrecision::bf16:
      return "bf16";
    case WeightPrecision::i8:
      return "i8";
    case WeightPrecision::f32:
      break;
  }
  return "f32";
}

std::optional<WeightPrecision> parse_precision(std::string_view name) {
  for (auto precision : {WeightPrecision::f32, WeightPrecision::bf16, WeightPrecision::i8}) {
    if (precision_name(precision) == name) return precision;
  }
  return std::nullopt;
}

}  // namespace tpustack::inferd::engine
