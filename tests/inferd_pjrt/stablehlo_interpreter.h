#pragma once

#include <vector>

#include "common/result/result.h"
#include "tests/inferd_pjrt/stablehlo_program.h"

namespace tpustack::stablehlo_reference {

// An array's values, row-major; those of a bf16 tensor are bf16 numbers held as floats, of i32 whole numbers and of
// i1 0 or 1.
struct Tensor {
  TensorType type;
  std::vector<float> values;
};

// Runs `program` (as parse_program checked it) on `arguments`, computing in float32 and rounding every bf16 result
// to bf16, to nearest even, every i32 toward zero and every i1 to 0 or 1. The Error says which argument does not match
// its parameter.
Result<std::vector<Tensor>> run_program(const Program& program, std::vector<Tensor> arguments);

}  // namespace tpustack::stablehlo_reference
