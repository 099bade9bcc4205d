#pragma once

// The weight parameters of the programs inferd emits (encoder_program.h, decoder_program.h): each model lists them
// once, with its weights' values where it has them, so that the names and dimensions the program takes and the values
// uploaded for them cannot disagree.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/result/result.h"

namespace tpustack::inferd::engine::pjrt {

// A weight parameter: its name in the program (%name) and its dimensions, row-major as the model's weights hold it.
struct ProgramParameter {
  std::string name;
  std::vector<int64_t> dims;
};

// A parameter and, when the weights are given, its values.
struct WeightEntry {
  ProgramParameter parameter;
  const std::vector<float>* values = nullptr;
};

// The values of `entries` (all given), in order; fails naming the first whose size is not its dimensions'.
Result<std::vector<std::span<const float>>> entry_values(const std::vector<WeightEntry>& entries);

}  // namespace tpustack::inferd::engine::pjrt
