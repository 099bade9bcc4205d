#pragma once

#include <cstddef>
#include <vector>

// The sizes static-shape programs are compiled for (encoder_buckets.h, decoder_buckets.h): doubling, so that padding
// stays under half of each dimension and a few programs cover every shape.
namespace tpustack::inferd::engine::pjrt {

// first, 2 first, 4 first, ... below `last`, then `last` (first is at most last).
std::vector<size_t> doubling_sizes(size_t first, size_t last);

// The smallest of the ascending `sizes` that holds `wanted`; the largest when none does.
size_t smallest_at_least(const std::vector<size_t>& sizes, size_t wanted);

}  // namespace tpustack::inferd::engine::pjrt
