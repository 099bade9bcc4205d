// This CPU's fp32 peak, measured rather than computed from a nominal clock and a guessed vector width: each thread
// runs independent fused multiply-adds on the widest vectors the CPU offers and the GFLOP/s of all threads
// together are printed as one JSON line.
//
//   inferd_fp32_peak [--threads N] [--seconds S]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "common/cli/command_line.h"

namespace {

using Clock = std::chrono::steady_clock;

// 16 independent chains: enough to cover the FMA latency on two pipes.
constexpr int chains = 16;
constexpr int inner = 4096;

// One AVX-512 register of floats as a GCC vector type; the AVX2 clone splits it in two.
typedef float Lanes __attribute__((vector_size(64)));
constexpr int lanes = 16;

// Returns the FLOPs done until `until` and stores a sum of the accumulators in `sink`, so nothing is optimised
// away. This file is compiled with -ffp-contract=fast, so each multiply-add is one FMA instruction.
__attribute__((target_clones("avx512f", "avx2,fma", "default"))) double fma_until(Clock::time_point until,
                                                                                  float* sink) {
  Lanes acc[chains];
  for (int c = 0; c < chains; ++c) acc[c] = Lanes{} + static_cast<float>(c) * 1e-3f;
  const Lanes a = Lanes{} + 0.999999f, b = Lanes{} + 1e-7f;
  double flops = 0;
  while (Clock::now() < until) {
    for (int i = 0; i < inner; ++i) {
#pragma GCC unroll 16  // fully, so the accumulators live in registers
      for (int c = 0; c < chains; ++c) acc[c] = acc[c] * a + b;
    }
    flops += 2.0 * inner * chains * lanes;
  }
  for (int c = 1; c < chains; ++c) acc[0] += acc[c];
  *sink = acc[0][0];
  return flops;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("This CPU's fp32 peak, measured: independent fused multiply-adds on every thread", "inferd_fp32_peak");
  int threads = 2;
  double seconds = 1.0;
  app.add_option("--threads", threads, "threads")->check(CLI::PositiveNumber);
  app.add_option("--seconds", seconds, "how long to measure")->check(CLI::PositiveNumber);
  if (auto code = tpustack::cli::parse_command_line(app, argc, argv)) return *code;
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
