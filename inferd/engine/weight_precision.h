#pragma once

#include <optional>
#include <string_view>

namespace tpustack::inferd::engine {

// The number formats a backend computes in (the `--variant` values): fp32 throughout; bf16 products with fp32
// accumulation, norms and softmax; or int8 products (weights per output channel, activations per row) likewise.
enum class WeightPrecision { f32, bf16, i8 };

std::string_view precision_name(WeightPrecision precision);
std::optional<WeightPrecision> parse_precision(std::string_view name);

}  // namespace tpustack::inferd::engine
