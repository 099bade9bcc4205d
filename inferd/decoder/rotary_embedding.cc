#include "inferd/decoder/rotary_embedding.h"

#include <cmath>
#include <numbers>

namespace tpustack::inferd::decoder {

std::vector<double> rope_inverse_frequencies(const model::DecoderConfig& config) {
  std::vector<double> inverse_frequencies;
  const model::RopeConfig& rope = config.rope;
  const size_t d = config.head_dim;
  for (size_t i = 0; i < d / 2; ++i) {
    double frequency = 1.0 / std::pow(rope.theta, static_cast<double>(2 * i) / static_cast<double>(d));
    if (rope.scaling == model::RopeScaling::linear) {
      frequency /= rope.factor;
    } else if (rope.scaling == model::RopeScaling::llama3) {
      // Wavelengths shorter than original / high_freq_factor positions are kept, longer than original /
      // low_freq_factor divided by factor, and those between blended by where they fall.
      const double wavelength = 2.0 * std::numbers::pi / frequency;
      const double long_wavelength = rope.original_max_positions / rope.low_freq_factor;
      const double short_wavelength = rope.original_max_positions / rope.high_freq_factor;
      if (wavelength > long_wavelength) {
        frequency /= rope.factor;
      } else if (wavelength >= short_wavelength) {
        const double smooth = (rope.original_max_positions / wavelength - rope.low_freq_factor) /
                              (rope.high_freq_factor - rope.low_freq_factor);
        frequency = (1.0 - smooth) * frequency / rope.factor + smooth * frequency;
      }
    }
    inverse_frequencies.push_back(frequency);
  }
  return inverse_frequencies;
}

RotaryEmbedding::RotaryEmbedding(const model::DecoderConfig& config)
    : inverse_frequencies_(rope_inverse_frequencies(config)) {}

void RotaryEmbedding::angles(size_t position, float* cos, float* sin) const {
  for (size_t i = 0; i < inverse_frequencies_.size(); ++i) {
    const double angle = static_cast<double>(position) * inverse_frequencies_[i];
    cos[i] = static_cast<float>(std::cos(angle));
    sin[i] = static_cast<float>(std::sin(angle));
  }
}

void rotate_half(const float* x, const float* cos, const float* sin, size_t pairs, float* out) {
  for (size_t i = 0; i < pairs; ++i) {
    const float first = x[i], second = x[i + pairs];
    out[i] = first * cos[i] - second * sin[i];
    out[i + pairs] = second * cos[i] + first * sin[i];
  }
}

}  // namespace tpustack::inferd::decoder
