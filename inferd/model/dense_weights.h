#pragma once

#include <cstddef>
#include <vector>

namespace tpustack::inferd::model {

// A fully connected layer as PyTorch stores it: weight is [out, in] row-major; bias is [out], or empty for a layer
// without one.
struct DenseWeights {
  std::vector<float> weight;
  std::vector<float> bias;
  size_t out = 0;
  size_t in = 0;
};

}  // namespace tpustack::inferd::model
