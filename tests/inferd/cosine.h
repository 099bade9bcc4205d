#pragma once

#include <cmath>
#include <span>
#include <vector>

namespace tpustack::inferd::testing {

// The cosine of the angle between what the engine computed and the reference's float64 values.
inline double cosine(std::span<const float> a, const std::vector<double>& b) {
  double dot = 0, na = 0, nb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    dot += a[i] * b[i];
    na += double(a[i]) * a[i];
    nb += b[i] * b[i];
  }
  return dot / std::sqrt(na * nb);
}

}  // namespace tpustack::inferd::testing
