#include "inferd/server/embedding_output.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace tpustack::inferd::server {

namespace {

double dot(std::span<const float> a, std::span<const float> b) {
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += double(a[i]) * b[i];
  return sum;
}

}  // namespace

Result<void> check_dimensions(std::optional<size_t> dimensions, size_t width) {
  if (!dimensions) return {};
  if (*dimensions == 0) return Error{"\"dimensions\" must be at least 1"};
  if (*dimensions > width) {
    return Error{"\"dimensions\" is " + std::to_string(*dimensions) + "; the model's embeddings have " +
                 std::to_string(width)};
  }
  return {};
}

void keep_dimensions(batching::Rows& rows, size_t dimensions) {
  if (dimensions >= rows.width) return;
  const size_t count = rows.size();
  for (size_t i = 0; i < count; ++i) {
    std::copy_n(rows.values.begin() + i * rows.width, dimensions, rows.values.begin() + i * dimensions);
  }
  rows.values.resize(count * dimensions);
  rows.width = dimensions;
}

void l2_normalize(batching::Rows& rows) {
  for (size_t i = 0; i < rows.size(); ++i) {
    const double norm = std::sqrt(dot(rows.row(i), rows.row(i)));
    if (norm <= 0) continue;
    const float scale = static_cast<float>(1.0 / norm);
    float* row = rows.values.data() + i * rows.width;
    for (size_t j = 0; j < rows.width; ++j) row[j] *= scale;
  }
}

std::vector<float> similarities_to_first(const batching::Rows& rows) {
  std::vector<float> scores;
  if (rows.size() == 0) return scores;
  const double first = std::sqrt(dot(rows.row(0), rows.row(0)));
  for (size_t i = 1; i < rows.size(); ++i) {
    const double norms = first * std::sqrt(dot(rows.row(i), rows.row(i)));
    scores.push_back(norms > 0 ? static_cast<float>(dot(rows.row(0), rows.row(i)) / norms) : 0.0f);
  }
  return scores;
}

}  // namespace tpustack::inferd::server
