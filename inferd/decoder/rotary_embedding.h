#pragma once

#include <cstddef>
#include <vector>

#include "inferd/model/decoder_config.h"

namespace tpustack::inferd::decoder {

// The inverse frequency of each of the head_dim / 2 pairs, with the config's linear or llama3 scaling.
std::vector<double> rope_inverse_frequencies(const model::DecoderConfig& config);

// Rotary position embeddings as Hugging Face's Llama applies them: head dimension i and i + head_dim / 2 form a
// pair (rotate_half), rotated by position x inverse frequency i. The frequencies are computed once at load.
class RotaryEmbedding {
 public:
  explicit RotaryEmbedding(const model::DecoderConfig& config);

  // cos and sin of each pair's angle (head_dim / 2 of them) at `position`, computed in double: fp32 angles lose digits
  // at long positions.
  void angles(size_t position, float* cos, float* sin) const;

 private:
  std::vector<double> inverse_frequencies_;
};

// out = x (2 x pairs floats) rotated by the angles of one position; x and out may be the same.
void rotate_half(const float* x, const float* cos, const float* sin, size_t pairs, float* out);

}  // namespace tpustack::inferd::decoder
