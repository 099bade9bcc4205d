#pragma once

// The weights of a program inferd emits (program_parameters.h), uploaded as its parameters for the tests that run it.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "inferd/engine/pjrt/pjrt_client.h"
#include "inferd/engine/pjrt/program_parameters.h"
#include "inferd/engine/weight_precision.h"
#include "tests/inferd_pjrt/bfloat16.h"
#include "tests/support/result_matchers.h"

namespace tpustack::inferd::engine::pjrt {

// A buffer on device 0 for each parameter, of its values in f32 or rounded to bf16 as the precision asks.
inline std::vector<PjrtBuffer> upload_weights(const PjrtClient& client, const std::vector<ProgramParameter>& parameters,
                                              const std::vector<std::span<const float>>& values,
                                              WeightPrecision precision) {
  EXPECT_EQ(values.size(), parameters.size());
  std::vector<PjrtBuffer> buffers;
  for (size_t i = 0; i < parameters.size(); ++i) {
    if (precision == WeightPrecision::bf16) {
      std::vector<uint16_t> bits(values[i].size());
      std::transform(values[i].begin(), values[i].end(), bits.begin(), stablehlo_reference::float_to_bf16);
      buffers.push_back(tpustack::testing::value_of(client.buffer_from_host_bf16(bits, parameters[i].dims, 0)));
    } else {
      buffers.push_back(tpustack::testing::value_of(client.buffer_from_host(values[i], parameters[i].dims, 0)));
    }
  }
  return buffers;
}

}  // namespace tpustack::inferd::engine::pjrt
