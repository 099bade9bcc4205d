#pragma once

// One run of the dense layer (dense_layer_mlir.h) on fixed inputs, for tests that compare executables made in
// different ways.

#include <vector>

#include "inferd/engine/pjrt/pjrt_client.h"
#include "tests/support/result_matchers.h"

namespace tpustack::inferd::engine::pjrt {

// The layer's two outputs on `device`, copied to the host.
inline std::vector<std::vector<float>> run_dense_layer(const PjrtClient& client, const PjrtExecutable& executable,
                                                       int device) {
  using tpustack::testing::value_of;
  const PjrtBuffer x = value_of(client.buffer_from_host({{0.5f, -1.0f, 0.25f, 1.5f, 0.75f, -0.5f}}, {2, 3}, device));
  const PjrtBuffer w = value_of(client.buffer_from_host(
      {{0.1f, -0.2f, 0.3f, 0.4f, 0.5f, 0.6f, -0.7f, 0.8f, -0.9f, 1.0f, 0.11f, -0.12f}}, {3, 4}, device));
  const PjrtBuffer b = value_of(client.buffer_from_host({{0.01f, -0.02f, 0.03f, 0.3f}}, {4}, device));
  std::vector<std::vector<float>> outputs;
  for (const PjrtBuffer& output : value_of(executable.execute({&x, &w, &b}, device))) {
    outputs.push_back(value_of(output.to_host()));
  }
  return outputs;
}

}  // namespace tpustack::inferd::engine::pjrt
