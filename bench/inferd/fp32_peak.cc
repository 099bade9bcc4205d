// This CPU's fp32 peak, measured rather than computed from a nominal clock and a guessed vector width: each thread
// runs independent fused multiply-adds on the widest vectors the CPU offers and the GFLOP/s of all threads
// together are printed as one JSON line.
//
//   inferd_fp32_peak [--threads N] [--seconds S]
#include <immintrin.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

// 16 independent chains: enough to cover the FMA latency on two pipes.
constexpr int chains = 16;
constexpr int inner = 4096;

// Each returns the FLOPs done until `until` and stores a sum of its accumulators in `sink`, so nothing is
// optimised away. Intrinsics rather than plain arithmetic, as ISO C++ mode turns off multiply-add contraction.
__attribute__((target("avx512f"))) double fma_avx512(Clock::time_point until, float* sink) {
  __m512 acc[chains];
  for (int c = 0; c < chains; ++c) acc[c] = _mm512_set1_ps(static_cast<float>(c) * 1e-3f);
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  double flops = 0;
  while (Clock::now() < until) {
    for (int i = 0; i < inner; ++i) {
#pragma GCC unroll 16  // fully, so the accumulators live in registers
      for (int c = 0; c < chains; ++c) acc[c] = _mm512_fmadd_ps(acc[c], a, b);
    }
    flops += 2.0 * inner * chains * 16;
  }
  for (int c = 1; c < chains; ++c) acc[0] = _mm512_add_ps(acc[0], acc[c]);
  float lanes[16];
  _mm512_storeu_ps(lanes, acc[0]);
  *sink = lanes[0];
  return flops;
}

__attribute__((target("avx2,fma"))) double fma_avx2(Clock::time_point until, float* sink) {
  __m256 acc[chains];
  for (int c = 0; c < chains; ++c) acc[c] = _mm256_set1_ps(static_cast<float>(c) * 1e-3f);
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  double flops = 0;
  while (Clock::now() < until) {
    for (int i = 0; i < inner; ++i) {
#pragma GCC unroll 16
      for (int c = 0; c < chains; ++c) acc[c] = _mm256_fmadd_ps(acc[c], a, b);
    }
    flops += 2.0 * inner * chains * 8;
  }
  for (int c = 1; c < chains; ++c) acc[0] = _mm256_add_ps(acc[0], acc[c]);
  float lanes[8];
  _mm256_storeu_ps(lanes, acc[0]);
  *sink = lanes[0];
  return flops;
}

double fma_until(Clock::time_point until, float* sink) {
  if (__builtin_cpu_supports("avx512f")) return fma_avx512(until, sink);
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return fma_avx2(until, sink);
  std::fprintf(stderr, "inferd_fp32_peak needs AVX2 with FMA or AVX-512\n");
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2;
  double seconds = 1.0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--threads") == 0) {
      threads = std::atoi(argv[i + 1]);
    } else if (std::strcmp(argv[i], "--seconds") == 0) {
      seconds = std::atof(argv[i + 1]);
    } else {
      std::fprintf(stderr, "usage: inferd_fp32_peak [--threads N] [--seconds S]\n");
      return 2;
    }
  }
  if (threads < 1 || seconds <= 0) {
    std::fprintf(stderr, "--threads and --seconds must be positive\n");
    return 2;
  }
  std::vector<double> flops(static_cast<size_t>(threads));
  std::vector<float> sinks(static_cast<size_t>(threads));
  std::vector<std::thread> workers;
  const auto start = Clock::now();
  const auto until = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] { flops[static_cast<size_t>(t)] = fma_until(until, &sinks[static_cast<size_t>(t)]); });
  }
  double total = 0;
  for (int t = 0; t < threads; ++t) {
    workers[static_cast<size_t>(t)].join();
    total += flops[static_cast<size_t>(t)];
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("{\"threads\":%d,\"fp32_peak_gflop_per_s\":%.1f,\"sink\":%g}\n", threads, total / elapsed / 1e9,
              static_cast<double>(sinks[0]));
  return 0;
}
