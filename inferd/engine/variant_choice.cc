#include "inferd/engine/variant_choice.h"

#include <algorithm>
#include <cmath>

namespace tpustack::inferd::engine {

double accuracy_bar(WeightPrecision precision) {
  switch (precision) {
    case WeightPrecision::bf16:
      return 0.999;
    case WeightPrecision::i8:
      return 0.995;
    case WeightPrecision::f32:
      break;
  }
  return -1.0;
}

WeightPrecision fastest_accurate(std::span<const VariantTrial> trials) {
  const VariantTrial* best = nullptr;
  for (const VariantTrial& trial : trials) {
    if (trial.min_cosine < accuracy_bar(trial.precision)) continue;
    if (!best || trial.seconds < best->seconds) best = &trial;
  }
  return best ? best->precision : WeightPrecision::f32;
}

double min_row_cosine(std::span<const float> a, std::span<const float> b, size_t columns) {
  double lowest = 1.0;
  for (size_t row = 0; row * columns < std::min(a.size(), b.size()); ++row) {
    double dot = 0, aa = 0, bb = 0;
    for (size_t c = row * columns; c < (row + 1) * columns; ++c) {
      dot += double(a[c]) * b[c];
      aa += double(a[c]) * a[c];
      bb += double(b[c]) * b[c];
    }
    lowest = std::min(lowest, aa > 0 && bb > 0 ? dot / std::sqrt(aa * bb) : (aa == bb ? 1.0 : 0.0));
  }
  return lowest;
}

}  // namespace tpustack::inferd::engine
