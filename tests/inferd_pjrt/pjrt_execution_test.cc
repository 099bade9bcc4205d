// Running programs through inferd's PJRT client against the fake plugin: buffers to and from devices, compiling
// StableHLO, executing on a chosen device, and what each injected fault looks like to a user.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "inferd/engine/pjrt/pjrt_plugin.h"
#include "tests/inferd_pjrt/bfloat16.h"
#include "tests/inferd_pjrt/dense_layer_mlir.h"
#include "tests/inferd_pjrt/fake_pjrt_fixture.h"
#include "tests/support/result_matchers.h"

namespace tpustack::inferd::engine::pjrt {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using tpustack::stablehlo_reference::bf16_to_float;
using tpustack::stablehlo_reference::float_to_bf16;
using tpustack::testing::FailsWith;
using tpustack::testing::value_of;

constexpr std::string_view kDenseLayer = tpustack::stablehlo_reference::kDenseLayerMlir;

// The same layer on bfloat16 inputs, widened first; the row sums come back as bfloat16 too.
constexpr std::string_view kDenseLayerBf16 = R"mlir(module @jit_dense_bf16 {
  func.func public @main(%arg0: tensor<2x3xbf16>, %arg1: tensor<3x4xbf16>, %arg2: tensor<4xbf16>) -> (tensor<2x4xf32>, tensor<2xbf16>) {
    %x = stablehlo.convert %arg0 : (tensor<2x3xbf16>) -> tensor<2x3xf32>
    %w = stablehlo.convert %arg1 : (tensor<3x4xbf16>) -> tensor<3x4xf32>
    %b = stablehlo.convert %arg2 : (tensor<4xbf16>) -> tensor<4xf32>
    %0 = stablehlo.dot_general %x, %w, contracting_dims = [1] x [0] : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
    %1 = stablehlo.broadcast_in_dim %b, dims = [1] : (tensor<4xf32>) -> tensor<2x4xf32>
    %2 = stablehlo.add %0, %1 : tensor<2x4xf32>
    %3 = stablehlo.tanh %2 : tensor<2x4xf32>
    %cst = stablehlo.constant dense<0.000000e+00> : tensor<f32>
    %4 = stablehlo.reduce(%3 init: %cst) applies stablehlo.add across dimensions = [1] : (tensor<2x4xf32>, tensor<f32>) -> tensor<2xf32>
    %5 = stablehlo.convert %4 : (tensor<2xf32>) -> tensor<2xbf16>
    return %3, %5 : tensor<2x4xf32>, tensor<2xbf16>
  }
}
)mlir";

const std::vector<float> kX = {0.5f, -1.0f, 0.25f, 1.5f, 0.75f, -0.5f};
const std::vector<float> kW = {0.1f, -0.2f, 0.3f, 0.4f, 0.5f, 0.6f, -0.7f, 0.8f, -0.9f, 1.0f, 0.11f, -0.12f};
const std::vector<float> kB = {0.01f, -0.02f, 0.03f, 0.3f};

struct DenseLayer {
  std::vector<float> y;         // [2,4]
  std::vector<float> row_sums;  // [2]
};

DenseLayer dense_layer_by_loop(const std::vector<float>& x, const std::vector<float>& w, const std::vector<float>& b) {
  DenseLayer layer{std::vector<float>(8), std::vector<float>(2, 0.0f)};
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 4; ++j) {
      float dot = 0.0f;
      for (int k = 0; k < 3; ++k) dot += x[i * 3 + k] * w[k * 4 + j];
      layer.y[i * 4 + j] = std::tanh(dot + b[j]);
      layer.row_sums[i] += layer.y[i * 4 + j];
    }
  }
  return layer;
}

std::vector<uint16_t> to_bf16(const std::vector<float>& values) {
  std::vector<uint16_t> bits;
  for (float value : values) bits.push_back(float_to_bf16(value));
  return bits;
}

std::vector<float> widened(const std::vector<uint16_t>& bits) {
  std::vector<float> values;
  for (uint16_t value : bits) values.push_back(bf16_to_float(value));
  return values;
}

void expect_near(const std::vector<float>& actual, const std::vector<float>& expected, float tolerance) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) EXPECT_NEAR(actual[i], expected[i], tolerance) << "element " << i;
}

// The fake's live objects, to compare before and after.
struct LiveObjects {
  int buffers = fake_counter("FakePjrt_LiveBuffers");
  int executables = fake_counter("FakePjrt_LiveExecutables");
  int events = fake_counter("FakePjrt_LiveEvents");
  int errors = fake_counter("FakePjrt_LiveErrors");
  bool operator==(const LiveObjects&) const = default;
};

class PjrtExecutionTest : public FakePjrtTest {
 protected:
  PjrtPlugin plugin_ = value_of(PjrtPlugin::load(kFakePlugin));
  PjrtClient client_ = value_of(plugin_.create_client());

  struct Inputs {
    PjrtBuffer x, w, b;
  };
  Inputs upload_f32(int device) const {
    return {value_of(client_.buffer_from_host(kX, {2, 3}, device)),
            value_of(client_.buffer_from_host(kW, {3, 4}, device)),
            value_of(client_.buffer_from_host(kB, {4}, device))};
  }
};

TEST_F(PjrtExecutionTest, ADenseLayerRunsOnEitherDeviceAndMatchesAPlainLoop) {
  const LiveObjects before;
  {
    const PjrtExecutable executable = value_of(client_.compile(kDenseLayer));
    EXPECT_EQ(executable.num_outputs(), 2u);
    const DenseLayer expected = dense_layer_by_loop(kX, kW, kB);
    for (int device : {0, 1}) {
      SCOPED_TRACE("device " + std::to_string(device));
      const Inputs inputs = upload_f32(device);
      const std::vector<PjrtBuffer> outputs = value_of(executable.execute({&inputs.x, &inputs.w, &inputs.b}, device));
      ASSERT_EQ(outputs.size(), 2u);
      EXPECT_EQ(outputs[0].element_type(), PjrtElementType::kF32);
      EXPECT_THAT(outputs[0].dims(), ElementsAre(2, 4));
      EXPECT_THAT(outputs[1].dims(), ElementsAre(2));
      expect_near(value_of(outputs[0].to_host()), expected.y, 1e-6f);
      expect_near(value_of(outputs[1].to_host()), expected.row_sums, 1e-6f);
    }
  }
  EXPECT_EQ(LiveObjects(), before);
}

TEST_F(PjrtExecutionTest, Bfloat16InputsAreWidenedAndBfloat16OutputsComeBackAsFloats) {
  const PjrtExecutable executable = value_of(client_.compile(kDenseLayerBf16));
  const PjrtBuffer x = value_of(client_.buffer_from_host_bf16(to_bf16(kX), {2, 3}, 1));
  const PjrtBuffer w = value_of(client_.buffer_from_host_bf16(to_bf16(kW), {3, 4}, 1));
  const PjrtBuffer b = value_of(client_.buffer_from_host_bf16(to_bf16(kB), {4}, 1));
  EXPECT_EQ(x.element_type(), PjrtElementType::kBF16);
  // What went in is what bf16 holds of it.
  EXPECT_EQ(value_of(w.to_host()), widened(to_bf16(kW)));

  const std::vector<PjrtBuffer> outputs = value_of(executable.execute({&x, &w, &b}, 1));
  ASSERT_EQ(outputs.size(), 2u);
  const DenseLayer expected = dense_layer_by_loop(widened(to_bf16(kX)), widened(to_bf16(kW)), widened(to_bf16(kB)));
  expect_near(value_of(outputs[0].to_host()), expected.y, 1e-6f);
  EXPECT_EQ(outputs[1].element_type(), PjrtElementType::kBF16);
  // bfloat16 keeps 8 significant bits: within half a unit in the last place of the row sums (below 2).
  expect_near(value_of(outputs[1].to_host()), expected.row_sums, 1.0f / 256);
}

TEST_F(PjrtExecutionTest, BuffersAndExecutablesAreFreedWithTheirObjectsAndOnlyOnce) {
  const LiveObjects before;
  {
    PjrtBuffer buffer = value_of(client_.buffer_from_host(kB, {4}, 0));
    PjrtBuffer moved = std::move(buffer);
    moved = value_of(client_.buffer_from_host(kB, {2, 2}, 1));
    EXPECT_THAT(moved.dims(), ElementsAre(2, 2));
    PjrtExecutable executable = value_of(client_.compile(kDenseLayer));
    PjrtExecutable other = std::move(executable);
    other = value_of(client_.compile(kDenseLayer));
    EXPECT_EQ(fake_counter("FakePjrt_LiveBuffers"), before.buffers + 1);
    EXPECT_EQ(fake_counter("FakePjrt_LiveExecutables"), before.executables + 1);
  }
  EXPECT_EQ(LiveObjects(), before);
}

TEST_F(PjrtExecutionTest, AnUnknownDeviceIsNamedWithTheOnesThereAre) {
  EXPECT_THAT(client_.buffer_from_host(kB, {4}, 7),
              FailsWith("no addressable PJRT device has id 7 (the ids are: 0, 1)"));
}

TEST_F(PjrtExecutionTest, ValuesThatDoNotFillTheShapeAreRefused) {
  EXPECT_THAT(client_.buffer_from_host(kX, {2, 2}, 0), FailsWith("6 values for an array of shape [2, 2] (4 elements)"));
}

TEST_F(PjrtExecutionTest, ArgumentsOnAnotherDeviceAreRefusedByThePlugin) {
  const PjrtExecutable executable = value_of(client_.compile(kDenseLayer));
  const Inputs inputs = upload_f32(0);
  EXPECT_THAT(executable.execute({&inputs.x, &inputs.w, &inputs.b}, 1),
              FailsWith("PJRT_LoadedExecutable_Execute failed: argument 0 is on device 0, the execution on device 1 "
                        "(code 3 INVALID_ARGUMENT)"));
  EXPECT_THAT(executable.execute({&inputs.x, &inputs.w}, 0),
              FailsWith(HasSubstr("the program takes 3 arguments, not 2")));
}

TEST_F(PjrtExecutionTest, AnUnsupportedOperationFailsCompileNamingItAndItsLine) {
  const LiveObjects before;
  constexpr std::string_view program = R"mlir(func.func @main(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  %0 = stablehlo.add %a, %b : tensor<4xf32>
  %1 = stablehlo.abs %0 : tensor<4xf32>
  return %1 : tensor<4xf32>
})mlir";
  EXPECT_THAT(client_.compile(program),
              FailsWith(AllOf(HasSubstr("PJRT_Client_Compile failed: line 3: stablehlo.abs is not supported"),
                              HasSubstr("(code 3 INVALID_ARGUMENT)"))));
  EXPECT_EQ(LiveObjects(), before);
}

TEST_F(PjrtExecutionTest, AFailedCompileCarriesThePluginsMessage) {
  const LiveObjects before;
  setenv("FAKE_PJRT_FAIL_COMPILE", "Mosaic failed to compile the kernel: out of VMEM", 1);
  EXPECT_THAT(client_.compile(kDenseLayer),
              FailsWith("PJRT_Client_Compile failed: Mosaic failed to compile the kernel: out of VMEM (code 13 "
                        "INTERNAL)"));
  EXPECT_EQ(LiveObjects(), before);
}

TEST_F(PjrtExecutionTest, RunningOutOfDeviceMemoryFailsTheUploadThatDoesNotFitAndLeaksNothing) {
  const LiveObjects before;
  setenv("FAKE_PJRT_OUT_OF_MEMORY_AFTER_BYTES", "80", 1);
  {
    const PjrtBuffer x = value_of(client_.buffer_from_host(kX, {2, 3}, 0));  // 24 bytes
    const PjrtBuffer w = value_of(client_.buffer_from_host(kW, {3, 4}, 0));  // 48 bytes
    EXPECT_THAT(client_.buffer_from_host(kB, {4}, 0),
                FailsWith("PJRT_Client_BufferFromHostBuffer failed: Error allocating device buffer: attempting to "
                          "allocate 16 bytes on device 0, where 8 of 80 bytes are free (code 8 RESOURCE_EXHAUSTED)"));
    EXPECT_EQ(fake_counter("FakePjrt_LiveBuffers"), before.buffers + 2);
  }
  EXPECT_EQ(LiveObjects(), before);
  EXPECT_TRUE(client_.buffer_from_host(kB, {4}, 0).ok());
}

TEST_F(PjrtExecutionTest, ADeviceErrorFailsTheExecutionAndFreesTheOutputsItMade) {
  const PjrtExecutable executable = value_of(client_.compile(kDenseLayer));
  const Inputs on_0 = upload_f32(0);
  const Inputs on_1 = upload_f32(1);
  setenv("FAKE_PJRT_FAIL_EXECUTE_ON_DEVICE", "1", 1);
  const LiveObjects before;
  EXPECT_THAT(executable.execute({&on_1.x, &on_1.w, &on_1.b}, 1),
              FailsWith("PJRT_LoadedExecutable_Execute failed: device error (code 13 INTERNAL)"));
  EXPECT_EQ(LiveObjects(), before);
  EXPECT_EQ(value_of(executable.execute({&on_0.x, &on_0.w, &on_0.b}, 0)).size(), 2u);
}

}  // namespace
}  // namespace tpustack::inferd::engine::pjrt
