#pragma once

#include <cstddef>

namespace tpustack::inferd::cli {

// Bytes per second `threads` threads read from memory: the sum of a 1 GiB buffer's 64-bit words (an integer sum
// vectorises; a float one would not without reassociation), best of five passes. The roofline's denominator in
// `inferd bench --generate`.
double read_bandwidth(size_t threads);

}  // namespace tpustack::inferd::cli
