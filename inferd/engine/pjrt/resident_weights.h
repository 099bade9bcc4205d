#pragma once

#include <span>
#include <vector>

#include "common/result/result.h"
#include "inferd/engine/pjrt/pjrt_client.h"
#include "inferd/engine/pjrt/program_parameters.h"
#include "inferd/engine/weight_precision.h"

namespace tpustack::inferd::engine::pjrt {

// The weights one device holds, in the order of a program's parameters.
using ResidentWeights = std::vector<PjrtBuffer>;

// A copy of the weights on each of `device_ids`: `values` shaped as `parameters`, in f32 or bf16 (rounded once for
// every device). Fails naming the parameter and device when one does not fit.
Result<std::vector<ResidentWeights>> upload_weights(const PjrtClient& client, std::span<const int> device_ids,
                                                    const std::vector<ProgramParameter>& parameters,
                                                    const std::vector<std::span<const float>>& values,
                                                    WeightPrecision precision);

}  // namespace tpustack::inferd::engine::pjrt
