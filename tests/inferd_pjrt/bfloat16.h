#pragma once

// bfloat16, the upper half of a float32, for the fake PJRT plugin and its tests.

#include <cmath>
#include <cstdint>
#include <cstring>

namespace tpustack::stablehlo_reference {

inline float bf16_to_float(uint16_t bits) {
  const uint32_t widened = uint32_t{bits} << 16;
  float value;
  std::memcpy(&value, &widened, sizeof(value));
  return value;
}

// Rounded to nearest, ties to even, as XLA converts; NaN stays NaN.
inline uint16_t float_to_bf16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  if (std::isnan(value)) return static_cast<uint16_t>((bits >> 16) | 0x40);
  bits += 0x7fff + ((bits >> 16) & 1);
  return static_cast<uint16_t>(bits >> 16);
}

}  // namespace tpustack::stablehlo_reference
