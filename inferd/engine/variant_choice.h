#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "inferd/engine/weight_precision.h"

namespace tpustack::inferd::engine {

// How a variant did on the calibration batch at load: its speed, and how closely its embeddings follow fp32's.
struct VariantTrial {
  WeightPrecision precision;
  double seconds = 0;     // best time for the batch
  double min_cosine = 1;  // against the f32 variant, lowest over the batch's rows
};

// The lowest cosine to fp32 a variant may have: bf16 keeps 8 bits of mantissa and is held to more than int8.
double accuracy_bar(WeightPrecision precision);

// `--variant auto`: the fastest trial that meets its bar (f32 always does). Trials must include f32.
WeightPrecision fastest_accurate(std::span<const VariantTrial> trials);

// Lowest cosine between matching rows of two row-major matrices of `columns` columns.
double min_row_cosine(std::span<const float> a, std::span<const float> b, size_t columns);

}  // namespace tpustack::inferd::engine
