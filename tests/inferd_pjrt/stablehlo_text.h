#pragma once

#include <string_view>

#include "common/result/result.h"
#include "tests/inferd_pjrt/stablehlo_program.h"

namespace tpustack::stablehlo_reference {

// Parses a StableHLO module written as MLIR text, in the pretty form that JAX and stablehlo-opt print or in the
// generic form: one function, func.func @main, over tensors of f32, bf16, i32 and i1, using only the operations OpCode
// names, each of which is checked as a compiler would (check_operation). Locations (loc(...)) and attributes the
// interpreter does not need are skipped. Every Error starts "line N: " and names the operation or text at fault.
Result<Program> parse_program(std::string_view mlir);

}  // namespace tpustack::stablehlo_reference
