#include "inferd/engine/cpu/linear.h"

#include <dnnl.h>

#include <algorithm>
#include <cmath>

namespace inferd::engine::cpu {

Linear::Linear(const std::vector<const model::DenseWeights*>& parts, WeightPrecision precision)
    : precision_(precision) {
  in_ = parts.front()->in;
  for (const auto* part : parts) out_ += part->out;
  std::vector<float> transposed(in_ * out_);
  size_t column = 0;
  for (const auto* part : parts) {
    for (size_t o = 0; o < part->out; ++o) {
      for (size_t i = 0; i < in_; ++i) transposed[i * out_ + column + o] = part->weight[o * in_ + i];
    }
    column += part->out;
    bias_.insert(bias_.end(), part->bias.begin(), part->bias.end());
  }
  if (precision == WeightPrecision::f32) {
    weight_ = std::move(transposed);
    return;
  }
  column_scale_.assign(out_, 0.0f);
  for (size_t i = 0; i < in_; ++i) {
    for (size_t o = 0; o < out_; ++o)
      column_scale_[o] = std::max(column_scale_[o], std::fabs(transposed[i * out_ + o]));
  }
  for (float& scale : column_scale_) scale = scale > 0.0f ? scale / 127.0f : 1.0f;
  weight_int8_.resize(in_ * out_);
  for (size_t i = 0; i < in_; ++i) {
    for (size_t o = 0; o < out_; ++o) {
      weight_int8_[i * out_ + o] = static_cast<int8_t>(std::lround(transposed[i * out_ + o] / column_scale_[o]));
    }
  }
}

void Linear::multiply(const float* x, size_t rows, float* y) const {
  if (precision_ == WeightPrecision::i8) {
    multiply_int8(x, rows, y);
    return;
  }
  dnnl_sgemm('N', 'N', static_cast<dnnl_dim_t>(rows), static_cast<dnnl_dim_t>(out_), static_cast<dnnl_dim_t>(in_), 1.0f,
             x, static_cast<dnnl_dim_t>(in_), weight_.data(), static_cast<dnnl_dim_t>(out_), 0.0f, y,
             static_cast<dnnl_dim_t>(out_));
}

void Linear::multiply_int8(const float* x, size_t rows, float* y) const {
  // Symmetric per-row quantisation of the activations, so the product needs no zero-point correction. The buffers
  // are the calling thread's and kept: fresh ones cost page faults on every product of a large batch.
  thread_local std::vector<int8_t> quantized;
  thread_local std::vector<float> row_scale;
  thread_local std::vector<int32_t> accumulators;
  quantized.resize(std::max(quantized.size(), rows * in_));
  row_scale.resize(std::max(row_scale.size(), rows));
  accumulators.resize(std::max(accumulators.size(), rows * out_));
  for (size_t r = 0; r < rows; ++r) {
    const float* row = x + r * in_;
    float max = 0.0f;
    for (size_t i = 0; i < in_; ++i) max = std::max(max, std::fabs(row[i]));
    const float scale = max > 0.0f ? max / 127.0f : 1.0f;
    const float inv = 1.0f / scale;
    for (size_t i = 0; i < in_; ++i) quantized[r * in_ + i] = static_cast<int8_t>(std::nearbyint(row[i] * inv));
    row_scale[r] = scale;
  }
  const int32_t zero = 0;
  const auto n = static_cast<dnnl_dim_t>(out_), k = static_cast<dnnl_dim_t>(in_);
  dnnl_gemm_s8s8s32('N', 'N', 'F', static_cast<dnnl_dim_t>(rows), n, k, 1.0f, quantized.data(), k, 0,
                    weight_int8_.data(), n, 0, 0.0f, accumulators.data(), n, &zero);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t o = 0; o < out_; ++o) {
      y[r * out_ + o] = static_cast<float>(accumulators[r * out_ + o]) * row_scale[r] * column_scale_[o];
    }
  }
}

}  // namespace inferd::engine::cpu
